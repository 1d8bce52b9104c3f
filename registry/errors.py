"""The registry's exception tree: each error the registry raises on purpose subclasses :class:`RegistryError`.

The HTTP layer maps these classes to Confluent error codes in one table; this module holds no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from spine.errors import ConfigError, SpineError

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


__all__ = [
    "GateRefusedError",
    "InvalidSchemaError",
    "LintConfigError",
    "MajorNotDeclaredError",
    "RegistryError",
    "SemverError",
    "UnknownSchemaTypeError",
    "VersionUnderstatedError",
]
