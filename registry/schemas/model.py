"""The schema types the registry knows and the interface every parsed schema offers; no parsing here."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class SchemaType(StrEnum):
    """Schema languages the registry stores (Confluent's ``schemaType`` values)."""

    AVRO = "AVRO"
    PROTOBUF = "PROTOBUF"
    JSON = "JSON"


@dataclass(frozen=True, slots=True)
class TaggedField:
    """A field (dotted path, e.g. ``address.country``) and the classification tags it carries."""

    path: str
    tags: tuple[str, ...]


def canonical_json(node: Any) -> str:
    """Key-sorted, whitespace-free JSON: the identity text of a JSON-shaped schema."""
    return json.dumps(node, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class ParsedSchema(ABC):
    """A schema that parsed and validated; immutable once built."""

    schema_type: SchemaType
    raw: str

    @abstractmethod
    def canonical(self) -> str:
        """Normalized text, equal for submissions that differ only in whitespace or key order."""

    @abstractmethod
    def canonical_without_docs(self) -> str:
        """Normalized text without docs, comments and tags: equal when only metadata changed."""

    @abstractmethod
    def tagged_fields(self) -> list[TaggedField]:
        """Fields carrying classification tags, in schema order."""

    @abstractmethod
    def field_keys(self) -> dict[str, tuple[str, ...]]:
        """Every field's path and the keys under which an earlier version's field is read into it.

        The first key is the field's own; later ones are the keys it also answers to (Avro aliases). Two
        versions of one schema type compare keys, so a renamed field is still the same field.
        """

    def formatted(self, fmt: str | None) -> str:
        """The schema text in a requested format; the default is the text as submitted."""
        del fmt
        return self.raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ParsedSchema):
            return NotImplemented
        return self.schema_type == other.schema_type and self.canonical() == other.canonical()

    def __hash__(self) -> int:
        return hash((self.schema_type, self.canonical()))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.canonical()[:60]!r}>"
