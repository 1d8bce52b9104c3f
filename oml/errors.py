"""OML error codes and exceptions: each problem has a stable code, the YAML path, the line and a sentence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from spine.errors import ConfigError, ExitCode, SpineError


class OmlCode(StrEnum):
    """Stable codes of OML problems (CI jobs and editors match on them; never renumber)."""

    YAML_SYNTAX = "OML001"
    NOT_A_MAPPING = "OML002"
    MISSING_KEY = "OML003"
    UNSUPPORTED_VERSION = "OML004"
    FORBIDDEN_KEY = "OML005"
    UNKNOWN_KEY = "OML006"
    WRONG_TYPE = "OML007"
    EMPTY_STEPS = "OML008"
    INVALID_NAME = "OML009"
    DUPLICATE_STEP_ID = "OML010"
    UNKNOWN_COMPONENT = "OML011"
    INVALID_MODE = "OML012"
    MODE_MISMATCH = "OML013"
    CONFIG_INVALID = "OML014"
    UNKNOWN_STEP_REFERENCE = "OML015"
    BAD_INPUT_REFERENCE = "OML016"
    CYCLE = "OML017"
    MISSING_INPUT = "OML018"
    UNEXPECTED_INPUT = "OML019"
    BAD_CONNECTION_REFERENCE = "OML020"
    UNKNOWN_CONNECTION = "OML021"
    CONNECTION_FAMILY = "OML022"
    INLINE_SECRET = "OML023"  # noqa: S105 - an error code, not a password
    MISSING_ENV = "OML024"
    CONNECTIONS_FILE = "OML025"
    LITERAL_SECRET = "OML026"  # noqa: S105 - an error code, not a password
    NO_CONNECTION = "OML027"
    INVALID_EXPRESSION = "OML028"
    INVALID_PATTERN = "OML029"
    UNKNOWN_PARAM = "OML030"
    SELF_REFERENCE = "OML031"
    DUPLICATE_KEY = "OML032"
    UNKNOWN_COLUMN = "OML033"
    ROUTE_DENIED = "OML040"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: ``path`` is like ``steps[2].config.topic`` (``""`` for the document), ``line`` 1-based."""

    code: OmlCode
    path: str
    line: int | None
    message: str

    def render(self, source: str) -> str:
        where = source if self.line is None else f"{source}:{self.line}"
        at = f" {self.path}:" if self.path else ""
        return f"{where}:{at} {self.message} [{self.code.value}]"

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code.value, "path": self.path, "line": self.line, "message": self.message}


class OmlError(SpineError):
    """Root of the OML package's errors."""


class OmlInvalidError(OmlError, ConfigError):
    """A pipeline (or its connections file) is not valid OML; ``issues`` lists every problem found."""

    exit_code = ExitCode.USAGE

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        first = self.issues[0].render(source) if self.issues else f"{source}: invalid"
        more = len(self.issues) - 1
        super().__init__(first if more <= 0 else f"{first} (and {more} more)")


class RouteDeniedError(OmlError):
    """The residency gate denied a data route of the pipeline: the compile fails with its reasons."""

    exit_code = ExitCode.REFUSED

    def __init__(self, source: str, issues: Sequence[Issue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        super().__init__("; ".join(issue.render(source) for issue in self.issues))


__all__ = ["Issue", "OmlCode", "OmlError", "OmlInvalidError", "RouteDeniedError"]
