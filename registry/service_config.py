"""Compatibility level, lint configuration and mode, global and per subject, and the schema-event record.

Mixed into :class:`registry.service.RegistryService`; every change writes an event to the outbox in the
same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection

from registry.compatibility import CompatibilityLevel
from registry.events import encode_event, event_schema
from registry.lint import LintConfig
from registry.service_errors import (
    InvalidCompatibilityLevelError,
    InvalidModeError,
    OperationNotPermittedError,
    SubjectConfigNotFoundError,
    SubjectModeNotFoundError,
    SubjectNotFoundError,
)
from registry.storage import Database
from registry.storage import repository as repo
from registry.storage.tables import GLOBAL_SCOPE
from spine import outbox

logger = logging.getLogger(__name__)

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD
MODES = ("READWRITE", "READONLY", "IMPORT")


def parse_level(value: str) -> CompatibilityLevel:
    try:
        return CompatibilityLevel(str(value).upper())
    except ValueError:
        raise InvalidCompatibilityLevelError(
            f"Invalid compatibility level. Valid values are {', '.join(c.value for c in CompatibilityLevel)}"
        ) from None


def record_event(conn: Connection, topic: str, kind: str, subject: str, **fields: Any) -> None:
    """Queue a schema event in the outbox, inside the caller's transaction."""
    payload: dict[str, Any] = {
        "type": kind,
        "subject": subject,
        "version": None,
        "schema_id": None,
        "semver": None,
        "schema_type": None,
        "change": None,
        "compatibility": None,
        "permanent": False,
        "timestamp_ms": int(datetime.now(UTC).timestamp() * 1000),
    }
    payload.update(fields)
    outbox.enqueue(conn, topic, subject, encode_event(event_schema(), payload))


@dataclass(frozen=True, slots=True)
class SubjectSettings:
    """What governs a write to one subject, read in two queries: level, lint rules and mode."""

    level: CompatibilityLevel
    lint: LintConfig
    mode: str


class ConfigOperations:
    """Reads and changes of compatibility level, lint configuration and mode."""

    db: Database
    events_topic: str

    def settings(self, conn: Connection, subject: str) -> SubjectSettings:
        configs, modes = repo.settings_of(conn, subject)
        own_level, own_lint = configs.get(subject, (None, None))
        global_level, global_lint = configs.get(GLOBAL_SCOPE, (None, None))
        level = own_level or global_level
        lint = LintConfig.default() if global_lint is None else LintConfig.from_mapping(global_lint)
        if own_lint is not None:
            lint = lint.merged(own_lint)
        return SubjectSettings(
            level=CompatibilityLevel(level) if level else DEFAULT_LEVEL,
            lint=lint,
            mode=modes.get(subject) or modes.get(GLOBAL_SCOPE) or "READWRITE",
        )

    def level(self, conn: Connection, subject: str | None) -> CompatibilityLevel:
        if subject is not None:
            level, _ = repo.get_config(conn, subject)
            if level:
                return CompatibilityLevel(level)
        level, _ = repo.get_config(conn, None)
        return CompatibilityLevel(level) if level else DEFAULT_LEVEL

    def lint_config(self, conn: Connection, subject: str | None) -> LintConfig:
        _, global_lint = repo.get_config(conn, None)
        config = LintConfig.default() if global_lint is None else LintConfig.from_mapping(global_lint)
        if subject is not None:
            _, subject_lint = repo.get_config(conn, subject)
            if subject_lint is not None:
                config = config.merged(subject_lint)
        return config

    def mode(self, conn: Connection, subject: str | None) -> str:
        if subject is not None:
            found = repo.get_mode(conn, subject)
            if found:
                return found
        return repo.get_mode(conn, None) or "READWRITE"

    def _refuse_when_read_only(self, conn: Connection, subject: str) -> None:
        if self.mode(conn, subject) == "READONLY":
            raise OperationNotPermittedError(f"Subject {subject} is in read-only mode")

    # -- configuration and mode ----------------------------------------------------------------------

    def get_level(self, subject: str | None, *, default_to_global: bool) -> CompatibilityLevel:
        with self.db.read() as conn:
            if subject is not None and not default_to_global:
                level, _ = repo.get_config(conn, subject)
                if not level:
                    raise SubjectConfigNotFoundError(subject)
                return CompatibilityLevel(level)
            return self.level(conn, subject)

    def set_level(self, subject: str | None, value: str) -> CompatibilityLevel:
        level = parse_level(value)
        with self.db.write() as conn:
            repo.put_config(conn, subject, compatibility=level.value)
            record_event(
                conn, self.events_topic, "CONFIG_CHANGED", subject or GLOBAL_SCOPE, compatibility=level.value
            )
        return level

    def clear_level(self, subject: str | None) -> CompatibilityLevel:
        with self.db.write() as conn:
            level, _ = repo.get_config(conn, subject)
            if subject is not None and not level:
                raise SubjectNotFoundError(subject)
            repo.clear_compatibility(conn, subject)
            record_event(conn, self.events_topic, "CONFIG_CHANGED", subject or GLOBAL_SCOPE)
            return CompatibilityLevel(level) if level else DEFAULT_LEVEL

    def get_lint(self, subject: str | None) -> dict[str, Any]:
        with self.db.read() as conn:
            _, stored = repo.get_config(conn, subject)
            return stored or {}

    def set_lint(self, subject: str | None, config: dict[str, Any]) -> dict[str, Any]:
        LintConfig.from_mapping(config)
        with self.db.write() as conn:
            repo.put_config(conn, subject, lint=config)
            record_event(conn, self.events_topic, "CONFIG_CHANGED", subject or GLOBAL_SCOPE)
        return config

    def get_mode(self, subject: str | None, *, default_to_global: bool = True) -> str:
        with self.db.read() as conn:
            if subject is not None and not default_to_global:
                found = repo.get_mode(conn, subject)
                if not found:
                    raise SubjectModeNotFoundError(subject)
                return found
            return self.mode(conn, subject)

    def set_mode(self, subject: str | None, value: str) -> str:
        wanted = str(value).upper()
        if wanted not in MODES:
            raise InvalidModeError(f"Invalid mode. Valid values are {', '.join(MODES)}")
        with self.db.write() as conn:
            repo.put_mode(conn, subject, wanted)
            record_event(conn, self.events_topic, "MODE_CHANGED", subject or GLOBAL_SCOPE)
        return wanted

    def delete_mode(self, subject: str) -> str:
        with self.db.write() as conn:
            found = repo.get_mode(conn, subject)
            if not found:
                raise SubjectModeNotFoundError(subject)
            repo.delete_mode(conn, subject)
            record_event(conn, self.events_topic, "MODE_CHANGED", subject)
            return found
