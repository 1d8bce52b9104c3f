"""Every Kafka client default in one place.

These are the settings that make clients behave on the embedded broker and that are also sane on Apache
Kafka (see DESIGN.md, "Working settings"). Settings in ``KafkaSettings.producer/consumer/admin`` and
per-call overrides win over these defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spine.settings import KafkaSettings

ConfigValue = str | int | float | bool

COMMON_DEFAULTS: dict[str, ConfigValue] = {
    "socket.keepalive.enable": True,
    "reconnect.backoff.max.ms": 2000,
}

PRODUCER_DEFAULTS: dict[str, ConfigValue] = {
    "acks": "all",
    "enable.idempotence": True,
    "linger.ms": 5,
    "compression.type": "none",
    "message.timeout.ms": 120_000,
}

CONSUMER_DEFAULTS: dict[str, ConfigValue] = {
    # The broker holds a group join for half the session timeout; a short session keeps joins fast.
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "partition.assignment.strategy": "range,roundrobin",
    # A waiting fetch may not wake on new data; a short wait bounds end-to-end latency.
    "fetch.wait.max.ms": 100,
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "enable.partition.eof": False,
}

ADMIN_DEFAULTS: dict[str, ConfigValue] = {}


def _base(settings: KafkaSettings, client_id: str) -> dict[str, Any]:
    conf: dict[str, Any] = dict(COMMON_DEFAULTS)
    conf["bootstrap.servers"] = settings.bootstrap_or_raise()
    conf["client.id"] = client_id
    if settings.security_protocol:
        conf["security.protocol"] = settings.security_protocol
    if settings.sasl_mechanism:
        conf["sasl.mechanism"] = settings.sasl_mechanism
    if settings.sasl_username:
        conf["sasl.username"] = settings.sasl_username
    if settings.sasl_password is not None:
        conf["sasl.password"] = settings.sasl_password.get_secret_value()
    return conf


def producer_config(
    settings: KafkaSettings, client_id: str, overrides: Mapping[str, ConfigValue] | None = None
) -> dict[str, Any]:
    return {**_base(settings, client_id), **PRODUCER_DEFAULTS, **settings.producer, **(overrides or {})}


def consumer_config(
    settings: KafkaSettings,
    client_id: str,
    group_id: str,
    overrides: Mapping[str, ConfigValue] | None = None,
) -> dict[str, Any]:
    conf = {**_base(settings, client_id), **CONSUMER_DEFAULTS, **settings.consumer, **(overrides or {})}
    conf["group.id"] = group_id
    return conf


def admin_config(
    settings: KafkaSettings, client_id: str, overrides: Mapping[str, ConfigValue] | None = None
) -> dict[str, Any]:
    return {**_base(settings, client_id), **ADMIN_DEFAULTS, **settings.admin, **(overrides or {})}


def redacted(conf: Mapping[str, Any]) -> dict[str, Any]:
    """A copy safe to log: every password or secret replaced."""
    return {k: ("***" if "password" in k or "secret" in k else v) for k, v in conf.items()}


__all__ = [
    "ADMIN_DEFAULTS",
    "CONSUMER_DEFAULTS",
    "PRODUCER_DEFAULTS",
    "ConfigValue",
    "admin_config",
    "consumer_config",
    "producer_config",
    "redacted",
]
