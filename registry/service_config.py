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
from registry.errors import (
    InvalidCompatibilityLevelError,
    OperationNotPermittedError,
    SubjectConfigNotFoundError,
    SubjectModeNotFoundError,
    SubjectNotFoundError,
)
from registry.events import encode_event, event_schema
from registry.lint import LintConfig
from registry.modes import DEFAULT_MODE, Mode, parse_mode, read_only_refusal
from registry.storage import Database
from registry.storage import repository as repo
from registry.storage.tables import GLOBAL_SCOPE
from spine import outbox

logger = logging.getLogger(__name__)

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD


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
    mode: Mode
    # A metadata property: versions whose values of it differ are not compared (Confluent).
    group: str | None = None


class ConfigOperations:
    """Reads and changes of compatibility level, lint configuration and mode."""

    db: Database
    events_topic: str

    def settings(self, conn: Connection, subject: str) -> SubjectSettings:
        configs, modes = repo.settings_of(conn, subject)
        own_level, own_lint, own_group = configs.get(subject, (None, None, None))
        global_level, global_lint, global_group = configs.get(GLOBAL_SCOPE, (None, None, None))
        level = own_level or global_level
        lint = LintConfig.default() if global_lint is None else LintConfig.from_mapping(global_lint)
        if own_lint is not None:
            lint = lint.merged(own_lint)
        return SubjectSettings(
            level=CompatibilityLevel(level) if level else DEFAULT_LEVEL,
            lint=lint,
            mode=Mode(modes.get(subject) or modes.get(GLOBAL_SCOPE) or DEFAULT_MODE),
            group=own_group or global_group,
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

    def mode(self, conn: Connection, subject: str | None) -> Mode:
        if subject is not None:
            found = repo.get_mode(conn, subject)
            if found:
                return Mode(found)
        return Mode(repo.get_mode(conn, None) or DEFAULT_MODE)

    def _refuse_when_read_only(self, conn: Connection, subject: str | None) -> None:
        refused = read_only_refusal(subject, self.mode(conn, subject))
        if refused is not None:
            raise OperationNotPermittedError(refused)

    # -- configuration and mode ----------------------------------------------------------------------

    def get_level(self, subject: str | None, *, default_to_global: bool) -> CompatibilityLevel:
        with self.db.read() as conn:
            if subject is not None and not default_to_global:
                level, _ = repo.get_config(conn, subject)
                if not level:
                    raise SubjectConfigNotFoundError(subject)
                return CompatibilityLevel(level)
            return self.level(conn, subject)

    def set_level(self, subject: str | None, value: str, *, group: str | None = None) -> CompatibilityLevel:
        """Set the level (empty: keep it) and, when given, the compatibility group; answer the level."""
        level = parse_level(value) if value else None
        with self.db.write() as conn:
            self._refuse_when_read_only(conn, subject)
            repo.put_config(conn, subject, compatibility=level.value if level else None, group=group)
            level = level or self.level(conn, subject)
            record_event(
                conn, self.events_topic, "CONFIG_CHANGED", subject or GLOBAL_SCOPE, compatibility=level.value
            )
        return level

    def group(self, subject: str | None, *, default_to_global: bool = True) -> str | None:
        """The compatibility group in force for ``subject`` (None: the global one)."""
        with self.db.read() as conn:
            own = repo.get_group(conn, subject) if subject is not None else None
            if own or (subject is not None and not default_to_global):
                return own
            return repo.get_group(conn, None)

    def clear_level(self, subject: str | None) -> CompatibilityLevel:
        with self.db.write() as conn:
            self._refuse_when_read_only(conn, subject)
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

    def get_mode(self, subject: str | None, *, default_to_global: bool = True) -> Mode:
        with self.db.read() as conn:
            if subject is not None and not default_to_global:
                found = repo.get_mode(conn, subject)
                if not found:
                    raise SubjectModeNotFoundError(subject)
                return Mode(found)
            return self.mode(conn, subject)

    def set_mode(self, subject: str | None, value: str, *, force: bool = False) -> Mode:
        """Set a mode; entering IMPORT needs an empty scope (no live subject) unless ``force``, as in
        Confluent, so imported ids cannot collide with ones the registry assigned."""
        wanted = parse_mode(value)
        with self.db.write() as conn:
            if wanted is Mode.IMPORT and self.mode(conn, subject) is not Mode.IMPORT and not force:
                live = repo.versions(conn, subject) if subject else repo.subject_names(conn)
                if live:
                    raise OperationNotPermittedError("Cannot import since found existing subjects")
            repo.put_mode(conn, subject, wanted.value)
            record_event(conn, self.events_topic, "MODE_CHANGED", subject or GLOBAL_SCOPE)
        return wanted

    def delete_mode(self, subject: str) -> Mode:
        with self.db.write() as conn:
            found = repo.get_mode(conn, subject)
            if not found:
                raise SubjectModeNotFoundError(subject)
            repo.delete_mode(conn, subject)
            record_event(conn, self.events_topic, "MODE_CHANGED", subject)
            return Mode(found)
