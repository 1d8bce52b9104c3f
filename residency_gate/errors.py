"""The residency gate's exceptions: policy, route and audit errors, each with its ``spine`` exit code."""

from __future__ import annotations

from spine.errors import ExitCode, SpineError


class ResidencyError(SpineError):
    """Something the residency gate refuses on purpose."""


class PolicyError(ResidencyError):
    """A policy or policy-test file is malformed, names something undefined, or contradicts itself."""

    exit_code = ExitCode.USAGE

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source = source
        self.line = line
        self.problem = problem
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {problem}")


class RouteError(ResidencyError):
    """A route submitted for evaluation is malformed (a missing or mistyped field)."""

    exit_code = ExitCode.USAGE


class AuditError(ResidencyError):
    """The audit log, a checkpoint or an export is malformed or does not verify."""


class AuditKeyError(AuditError):
    """A checkpoint signing or verification key is missing or not an Ed25519 PEM key."""

    exit_code = ExitCode.USAGE


__all__ = ["AuditError", "AuditKeyError", "PolicyError", "ResidencyError", "RouteError"]
