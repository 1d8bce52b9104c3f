"""The registry's exception tree: each error the registry raises on purpose subclasses :class:`RegistryError`.

The HTTP layer maps these classes to Confluent error codes in one table; this module holds no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from spine.errors import ConfigError, SpineError


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


class LintConfigError(RegistryError, ConfigError):
    """A lint configuration names an unknown rule or severity."""


__all__ = [
    "InvalidSchemaError",
    "LintConfigError",
    "RegistryError",
    "SemverError",
    "UnknownSchemaTypeError",
]
