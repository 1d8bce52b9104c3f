"""Settings for every Data Spine process: one pydantic-settings class per service, one loader.

Values come from (highest first) environment variables ``SPINE_<SECTION>_<KEY>``, then a TOML
configuration file (``$SPINE_HOME/spine.toml`` or ``--config``) with one table per section, then the
defaults written here. Unknown keys are refused, in the file and in the environment, with one line that
names the key. Settings objects are built at entry points, never at import time.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from spine.errors import ConfigError

DEFAULT_PORTS: dict[str, int] = {
    "broker": 9092,
    "registry": 8081,
    "residency-gate": 8181,
    "lineage": 5000,
}

_ENV_ROOT = "SPINE_"


class SpineBaseSettings(BaseSettings):
    """Base of every settings class: a TOML section name and an env prefix derived from it."""

    section: ClassVar[str] = ""
    model_config = SettingsConfigDict(extra="forbid", env_prefix=_ENV_ROOT, case_sensitive=False)

    @classmethod
    def env_prefix(cls) -> str:
        return str(cls.model_config.get("env_prefix", _ENV_ROOT)).upper()

    @classmethod
    def env_names(cls) -> set[str]:
        prefix = cls.env_prefix()
        return {f"{prefix}{name}".upper() for name in cls.model_fields}


class SpineSettings(SpineBaseSettings):
    """Settings shared by every process: where state lives, how ports shift, logging, auth."""

    section: ClassVar[str] = "spine"
    model_config = SettingsConfigDict(extra="forbid", env_prefix="SPINE_", case_sensitive=False)

    home: Path = Field(default=Path(".spine"), description="State directory (SQLite files, logs, pids).")
    port_offset: int = Field(default=0, ge=0, le=50000, description="Added to every default port.")
    host: str = Field(default="127.0.0.1", description="Interface embedded services bind to.")
    log_level: str = Field(default="INFO")
    auth_tokens_file: Path | None = Field(
        default=None, description="JSON file of hashed bearer tokens; default $SPINE_HOME/auth/tokens.json."
    )
    config: Path | None = Field(default=None, description="TOML configuration file.")

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if not isinstance(logging.getLevelName(value.upper()), int):
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value.upper()

    def port(self, service: str) -> int:
        return DEFAULT_PORTS[service] + self.port_offset

    @property
    def tokens_path(self) -> Path:
        return self.auth_tokens_file or self.home / "auth" / "tokens.json"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"


class KafkaSettings(SpineBaseSettings):
    """How every client reaches Kafka. ``bootstrap`` unset means "use the embedded broker"."""

    section: ClassVar[str] = "kafka"
    model_config = SettingsConfigDict(extra="forbid", env_prefix="SPINE_KAFKA_", case_sensitive=False)

    bootstrap: str | None = Field(
        default=None, description="host:port list; unset starts the embedded broker."
    )
    security_protocol: str | None = None
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    producer: dict[str, str | int | float | bool] = Field(default_factory=dict)
    consumer: dict[str, str | int | float | bool] = Field(default_factory=dict)
    admin: dict[str, str | int | float | bool] = Field(default_factory=dict)

    def bootstrap_or_raise(self) -> str:
        if not self.bootstrap:
            raise ConfigError("SPINE_KAFKA_BOOTSTRAP is not set and no embedded broker is running")
        return self.bootstrap


class OutboxSettings(SpineBaseSettings):
    """Every outbox relay (registry, residency gate, local spools)."""

    section: ClassVar[str] = "outbox"
    model_config = SettingsConfigDict(extra="forbid", env_prefix="SPINE_OUTBOX_", case_sensitive=False)

    degraded_after_s: float = Field(
        default=30.0, gt=0, description="Readiness reports a relay degraded once its oldest row is older."
    )
    delivery_timeout_s: float = Field(
        default=15.0, gt=0, description="How long a relay waits for the broker to acknowledge a batch."
    )
    max_backoff_s: float = Field(default=5.0, gt=0, description="Longest wait between failed attempts.")


class HttpServiceSettings(SpineBaseSettings):
    """Fields every HTTP service has."""

    service_name: ClassVar[str] = ""
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 means the default port plus the offset.")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)


class RegistrySettings(HttpServiceSettings):
    """Schema registry service."""

    section: ClassVar[str] = "registry"
    service_name: ClassVar[str] = "registry"
    model_config = SettingsConfigDict(extra="forbid", env_prefix="SPINE_REGISTRY_", case_sensitive=False)

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in $SPINE_HOME."
    )
    residency_url: str | None = Field(
        default=None,
        description="Residency gate that audits declassifications; unset refuses every declassification.",
    )
    residency_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for the gate.")
    read_cache_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=0,
        description="Bytes of schema bodies and subject versions kept in memory (LRU, warmed at start); "
        "the default holds about 100,000 schemas of 2 KiB.",
    )
    change_poll_interval: float = Field(
        default=0.25,
        gt=0,
        description="Seconds between checks for writes by another registry process on the same database.",
    )


class ResidencyGateSettings(HttpServiceSettings):
    """Residency gate service."""

    section: ClassVar[str] = "residency_gate"
    service_name: ClassVar[str] = "residency-gate"
    model_config = SettingsConfigDict(extra="forbid", env_prefix="SPINE_RESIDENCY_", case_sensitive=False)

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in $SPINE_HOME."
    )
    signing_key: SecretStr | None = Field(
        default=None, description="Ed25519 private key (PEM) for checkpoints."
    )
    policy_file: Path | None = Field(
        default=None, description="Residency matrix (YAML) loaded at start when no policy is stored yet."
    )
    checkpoint_every: int = Field(default=1000, ge=1, description="Sign a checkpoint every N audit records.")
    checkpoint_seconds: float = Field(
        default=60.0, gt=0, description="...or when this many seconds passed since the last one."
    )
    registry_url: str | None = Field(
        default=None, description="Schema registry to read field tags from; default the embedded registry."
    )
    registry_version_ttl: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a numbered schema version's tags are trusted before the registry is asked again "
        "(a permanent delete lets the registry reuse version numbers).",
    )


class LineageSettings(HttpServiceSettings):
    """Lineage service."""

    section: ClassVar[str] = "lineage"
    service_name: ClassVar[str] = "lineage"
    model_config = SettingsConfigDict(extra="forbid", env_prefix="SPINE_LINEAGE_", case_sensitive=False)

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite in $SPINE_HOME."
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest request body (a batch of events) accepted."
    )


class CdcSettings(SpineBaseSettings):
    """CDC: the Debezium source and the router (``spine cdc ...``)."""

    section: ClassVar[str] = "cdc"
    model_config = SettingsConfigDict(extra="forbid", env_prefix="SPINE_CDC_", case_sensitive=False)

    routes_file: Path | None = Field(default=None, description="Route file (YAML); unset means no CDC.")
    residency_url: str | None = Field(
        default=None, description="Residency gate deciding every batch; default the embedded gate."
    )
    group: str = Field(default="spine-cdc-router", description="Consumer group of the router.")
    batch_size: int = Field(default=2000, ge=1, le=100_000, description="Most change events per batch.")
    poll_interval_ms: int = Field(default=100, ge=10, description="Debezium's poll.interval.ms.")
    jvm_max_heap: str = Field(default="512m", description="Heap of the Debezium JVM (-Xmx).")
    topic_partitions: int = Field(default=1, ge=1, description="Partitions of each change topic created.")
    sink_retries: int = Field(default=5, ge=0, description="Attempts after a transient sink error.")
    gate_timeout: float = Field(default=5.0, gt=0, description="Seconds to wait for the residency gate.")


ALL_SETTINGS: tuple[type[SpineBaseSettings], ...] = (
    SpineSettings,
    KafkaSettings,
    OutboxSettings,
    RegistrySettings,
    ResidencyGateSettings,
    LineageSettings,
    CdcSettings,
)

# Variables under SPINE_ that are read outside the settings classes (by tests and benchmarks).
_OTHER_KNOWN_ENV = {
    "SPINE_TANSU_BIN",
    "SPINE_TEST_KAFKA_BOOTSTRAP",
    "SPINE_TEST_PG_BIN",
    "SPINE_TEST_CDC_CRASH_ROWS",
    "SPINE_TOKEN",
    "SPINE_REGISTRY_URL",
    "SPINE_RESIDENCY_URL",
    "SPINE_LINEAGE_URL",
}

S = TypeVar("S", bound=SpineBaseSettings)


def check_environment(environ: dict[str, str] | None = None) -> None:
    """Refuse any ``SPINE_*`` variable no settings class knows: a typo must not be silently ignored."""
    env = os.environ if environ is None else environ
    known = set(_OTHER_KNOWN_ENV)
    for cls in ALL_SETTINGS:
        known |= cls.env_names()
    for name in sorted(env):
        if name.upper().startswith(_ENV_ROOT) and name.upper() not in known:
            raise ConfigError(f"environment: unknown setting {name}")


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML configuration file; any problem names the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from exc
    sections = {cls.section for cls in ALL_SETTINGS}
    for key, value in data.items():
        if key not in sections:
            raise ConfigError(f"{path}: unknown section [{key}] (known: {', '.join(sorted(sections))})")
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: [{key}] must be a table")
    return data


def default_config_path() -> Path | None:
    """The configuration file named by SPINE_CONFIG, else $SPINE_HOME/spine.toml if it exists."""
    explicit = os.environ.get("SPINE_CONFIG")
    if explicit:
        return Path(explicit)
    candidate = Path(os.environ.get("SPINE_HOME", ".spine")) / "spine.toml"
    return candidate if candidate.is_file() else None


def load_settings(cls: type[S], config_file: Path | None = None, **overrides: Any) -> S:
    """Build ``cls`` from overrides, environment, the configuration file and defaults, in that order."""
    path = config_file if config_file is not None else default_config_path()
    data: dict[str, Any] = {}
    if path is not None:
        data = dict(read_config_file(path).get(cls.section, {}))
        prefix = cls.env_prefix()
        for key in list(data):
            if f"{prefix}{key}".upper() in {k.upper() for k in os.environ}:
                del data[key]
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return cls(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, cls, path)) from None
    except SettingsError as exc:  # a complex (dict) field whose environment value is not JSON
        field = _SETTINGS_ERROR_FIELD.search(str(exc))
        name = f"{cls.env_prefix()}{field.group(1).upper()}" if field else f"{cls.env_prefix()}*"
        raise ConfigError(f"{name}: value is not valid JSON") from None


_SETTINGS_ERROR_FIELD = re.compile(r'field "(\w+)"')


def _describe(exc: ValidationError, cls: type[SpineBaseSettings], path: Path | None) -> str:
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"]) or "?"
    where = f"{path}: [{cls.section}] {key}" if path else f"{cls.env_prefix()}{key.upper()}"
    if err["type"] == "extra_forbidden":
        return f"{where}: unknown setting"
    return f"{where}: {err['msg']}"


__all__ = [
    "ALL_SETTINGS",
    "DEFAULT_PORTS",
    "CdcSettings",
    "HttpServiceSettings",
    "KafkaSettings",
    "LineageSettings",
    "OutboxSettings",
    "RegistrySettings",
    "ResidencyGateSettings",
    "SpineBaseSettings",
    "SpineSettings",
    "check_environment",
    "load_settings",
    "read_config_file",
]
