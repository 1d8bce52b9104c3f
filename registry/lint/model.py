"""Lint values: severities, findings and the shape of a rule. No rule logic here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from registry.schemas.model import ParsedSchema, SchemaType


class Severity(StrEnum):
    """``error`` blocks registration, ``warn`` is reported, ``off`` disables the rule."""

    ERROR = "error"
    WARN = "warn"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One rule violation: the rule, its severity, a path into the schema and a sentence."""

    rule: str
    severity: Severity
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.value} {self.rule} at {self.path}: {self.message}"


Check = Callable[[ParsedSchema], Iterator[tuple[str, str]]]
ChangeCheck = Callable[[ParsedSchema, ParsedSchema], Iterator[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named check for schemas of ``schema_types``; ``check`` yields ``(path, message)`` pairs."""

    name: str
    description: str
    default: Severity
    schema_types: frozenset[SchemaType]
    check: Check


@dataclass(frozen=True, slots=True)
class ChangeRule:
    """A check of a schema against the subject's previous version; ``check(previous, schema)``.

    It runs only when there is a previous version of the same schema type.
    """

    name: str
    description: str
    default: Severity
    schema_types: frozenset[SchemaType]
    check: ChangeCheck
