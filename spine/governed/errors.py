"""Errors of the governed clients, under :class:`spine.errors.SpineError`."""

from __future__ import annotations

from collections.abc import Sequence

from spine.errors import ConfigError, ExitCode, SpineError


class GovernedError(SpineError):
    """A governed client refused to do something."""


class NotGovernedError(GovernedError, ConfigError):
    """The topic or subject is not governed: no registered subject, or a dataset the matrix does not know."""

    exit_code = ExitCode.REFUSED


class RecordInvalidError(GovernedError):
    """A record does not match the registered schema; ``path`` names the field (``""`` for the whole)."""

    error_code = "INVALID_RECORD"

    def __init__(self, subject: str, path: str, problem: str) -> None:
        where = f"field {path}" if path else "record"
        super().__init__(f"{subject}: {where}: {problem}")
        self.subject = subject
        self.path = path
        self.problem = problem


class UndecodableRecordError(GovernedError):
    """A record on a governed topic cannot be decoded through the registry."""

    error_code = "UNDECODABLE"


class AccessDenied(GovernedError):  # noqa: N818 - the name the SDK's users catch
    """The residency gate denied the consumer's route; ``reasons`` are the decision's."""

    def __init__(self, dataset: str, reasons: Sequence[str], decision_id: str) -> None:
        super().__init__(f"access to {dataset} denied: {'; '.join(reasons)}")
        self.dataset = dataset
        self.reasons = tuple(reasons)
        self.decision_id = decision_id


__all__ = [
    "AccessDenied",
    "GovernedError",
    "NotGovernedError",
    "RecordInvalidError",
    "UndecodableRecordError",
]
