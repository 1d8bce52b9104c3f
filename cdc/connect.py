"""Register the route file's Debezium connector with Kafka Connect (the compose file's production path).

``PUT /connectors/<name>/config`` creates the connector or updates it in place, so registering at every
start is idempotent. The body is :func:`cdc.source.connect_config`'s: the same connector the embedded
engine runs, with the password left as a ``${env:NAME}`` reference for Connect's EnvVarConfigProvider.
"""

from __future__ import annotations

from typing import Any

import httpx

from cdc.routes import RouteFile
from cdc.source import connect_config, create_topics
from spine.errors import SpineError, UnavailableError
from spine.settings import CdcSettings, KafkaSettings


class ConnectRejectedError(SpineError):
    """Kafka Connect answered the registration with an error (exit 1: it said no)."""


def register(
    connect_url: str,
    routes: RouteFile,
    cdc: CdcSettings,
    kafka: KafkaSettings | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Create the change, DLQ and heartbeat topics (with ``kafka``), then create or update the connector;
    returns Connect's answer (name, config, tasks, type)."""
    if kafka is not None:
        create_topics(kafka, routes, cdc.topic_partitions)
    body = connect_config(routes, cdc)
    name = str(body["name"])
    url = f"{connect_url.rstrip('/')}/connectors/{name}/config"
    try:
        response = httpx.put(url, json=body["config"], timeout=timeout)
    except httpx.HTTPError as exc:
        raise UnavailableError(f"Kafka Connect unreachable at {connect_url}: {type(exc).__name__}") from None
    if response.status_code >= 400:
        try:
            message = str(response.json().get("message", response.text))
        except ValueError:
            message = response.text
        first = message.strip().splitlines()[0] if message.strip() else f"HTTP {response.status_code}"
        raise ConnectRejectedError(
            f"Kafka Connect at {connect_url} refused connector {name} (HTTP {response.status_code}): {first}"
        )
    answer = response.json()
    return answer if isinstance(answer, dict) else {"name": name}


__all__ = ["ConnectRejectedError", "register"]
