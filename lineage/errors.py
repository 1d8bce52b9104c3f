"""The lineage service's exceptions and the stable error codes its HTTP API and CLI report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from spine.errors import ExitCode, SpineError, UnavailableError
from spine.sql import DatabaseUnavailableError


class LineageErrorCode(IntEnum):
    """Stable numeric codes in ``{"error_code": ..., "message": ...}`` answers (HTTP status * 100 + n)."""

    MALFORMED_JSON = 40001
    BAD_REQUEST = 40002
    NOT_FOUND = 40401
    INVALID_EVENT = 42201
    UNKNOWN_EVENT_TYPE = 42202
    MISSING_FIELD = 42203
    INVALID_FACET = 42204
    TOO_MANY_EVENTS = 42205
    DATABASE_UNAVAILABLE = 50301


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an event: where (a JSON path such as ``$.run.runId``), what kind, and why."""

    path: str
    code: LineageErrorCode
    message: str

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "error_code": int(self.code), "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class LineageError(SpineError):
    """Something the lineage service refuses on purpose."""


class BadRequestError(LineageError):
    """A request the caller can fix: malformed JSON, a bad node id, a bad time."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, code: LineageErrorCode = LineageErrorCode.BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code


class InvalidEventError(LineageError):
    """One or more events fail the OpenLineage specification; ``problems`` says where, first one first."""

    exit_code = ExitCode.REFUSED

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0] if self.problems else None
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"invalid OpenLineage event: {first}{more}")

    @property
    def code(self) -> LineageErrorCode:
        return self.problems[0].code if self.problems else LineageErrorCode.INVALID_EVENT


class NotFoundError(LineageError):
    """A namespace, dataset, job, run or node the store does not know."""


class TopicLostError(UnavailableError):
    """The consumed topic vanished or was recreated (a broker that keeps no state restarted)."""


__all__ = [
    "BadRequestError",
    "DatabaseUnavailableError",
    "InvalidEventError",
    "LineageError",
    "LineageErrorCode",
    "NotFoundError",
    "Problem",
    "TopicLostError",
]
