"""The registry's exception tree: each error the registry raises on purpose subclasses :class:`RegistryError`
(schema and semver errors of the pure modules, then the service's refusals with their ``problems``).

The HTTP layer maps these classes to Confluent error codes in one table; this module holds no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spine.errors import ConfigError, SpineError, UnavailableError

if TYPE_CHECKING:
    from registry.compatibility.model import Incompatibility


class RegistryError(SpineError):
    """Root of the schema registry's errors."""


class InvalidSchemaError(RegistryError):
    """A submitted schema does not parse or is not valid for its type (Confluent 42201)."""


class UnknownSchemaTypeError(RegistryError):
    """The schema type is not one the registry supports (Confluent 42201)."""


class SemverError(RegistryError):
    """A declared semantic version is malformed or understates the change; ``problems`` says why."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems)


class GateRefusedError(SemverError):
    """The semver gate refused a publish; ``incompatibilities`` are the schema paths behind it."""

    def __init__(
        self,
        message: str,
        problems: Sequence[str] = (),
        incompatibilities: Sequence[Incompatibility] = (),
    ) -> None:
        super().__init__(message, problems)
        self.incompatibilities: tuple[Incompatibility, ...] = tuple(incompatibilities)


class MajorNotDeclaredError(GateRefusedError):
    """An incompatible change was published without declaring the next major version (409)."""


class VersionUnderstatedError(GateRefusedError):
    """A declared version is below what the change needs, or not above the latest (42240)."""


class LintConfigError(RegistryError, ConfigError):
    """A lint configuration names an unknown rule or severity."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a schema was refused: where in the schema, what is wrong, which check said so."""

    path: str
    message: str
    kind: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message, "kind": self.kind}


class ServiceError(RegistryError):
    """A request the registry refuses; ``problems`` lists each reason with a path when there is one."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class StorageError(UnavailableError):
    """The database failed (a server fault, not the caller's)."""


class SubjectNotFoundError(ServiceError):
    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' not found.")


class VersionNotFoundError(ServiceError):
    def __init__(self, subject: str, version: int | str) -> None:
        super().__init__(f"Version {version} not found for subject '{subject}'.")


class SchemaNotFoundError(ServiceError):
    def __init__(self, what: str = "Schema not found") -> None:
        super().__init__(what)


class SubjectSoftDeletedError(ServiceError):
    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' was soft deleted. Set permanent=true to delete permanently")


class SubjectNotSoftDeletedError(ServiceError):
    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' was not deleted first before being permanently deleted")


class VersionSoftDeletedError(ServiceError):
    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was soft deleted. "
            "Set permanent=true to delete permanently"
        )


class VersionNotSoftDeletedError(ServiceError):
    def __init__(self, subject: str, version: int) -> None:
        super().__init__(
            f"Subject '{subject}' Version {version} was not deleted first before being permanently deleted"
        )


class SubjectConfigNotFoundError(ServiceError):
    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' does not have subject-level compatibility configured")


class SubjectModeNotFoundError(ServiceError):
    def __init__(self, subject: str) -> None:
        super().__init__(f"Subject '{subject}' does not have subject-level mode configured")


class InvalidVersionError(ServiceError):
    def __init__(self, version: str) -> None:
        super().__init__(
            f"The specified version '{version}' is not a valid version id. "
            'Allowed values are between [1, 2^31-1] and the string "latest"'
        )


class InvalidCompatibilityLevelError(ServiceError):
    pass


class InvalidModeError(ServiceError):
    pass


class OperationNotPermittedError(ServiceError):
    pass


class ReferenceExistsError(ServiceError):
    pass


class IncompatibleSchemaError(ServiceError):
    """The schema breaks the subject's compatibility level."""


class SemverUnderstatedError(ServiceError):
    """The declared semantic version is lower than the change demands."""


class LintRefusedError(ServiceError):
    """A lint rule with severity ``error`` failed."""


class InvalidSubjectError(ServiceError):
    """The subject cannot name a governed topic (spine API only; Confluent's API takes any subject)."""


class DeclassificationForbiddenError(ServiceError):
    """A version would remove or weaken field tags and the caller lacks the security or admin role."""


class DeclassificationRefusedError(ServiceError):
    """The residency gate refused to record a declassification, so it was not published."""


class AuditUnavailableError(UnavailableError):
    """No residency gate is configured or it could not record a declassification: fail closed."""


class RequestError(ServiceError):
    """The request body is malformed in a way the schema checks never see (42200)."""


__all__ = [
    "AuditUnavailableError",
    "DeclassificationForbiddenError",
    "DeclassificationRefusedError",
    "GateRefusedError",
    "IncompatibleSchemaError",
    "InvalidCompatibilityLevelError",
    "InvalidModeError",
    "InvalidSchemaError",
    "InvalidSubjectError",
    "InvalidVersionError",
    "LintConfigError",
    "LintRefusedError",
    "MajorNotDeclaredError",
    "OperationNotPermittedError",
    "Problem",
    "ReferenceExistsError",
    "RegistryError",
    "RequestError",
    "SchemaNotFoundError",
    "SemverError",
    "SemverUnderstatedError",
    "ServiceError",
    "StorageError",
    "SubjectConfigNotFoundError",
    "SubjectModeNotFoundError",
    "SubjectNotFoundError",
    "SubjectNotSoftDeletedError",
    "SubjectSoftDeletedError",
    "UnknownSchemaTypeError",
    "VersionNotFoundError",
    "VersionNotSoftDeletedError",
    "VersionSoftDeletedError",
    "VersionUnderstatedError",
]
