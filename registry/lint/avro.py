"""Avro lint rules: namespaces, naming conventions, docs and enum hygiene."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from registry.lint.model import Rule, Severity
from registry.schemas.avro import NAMED, AvroSchema
from registry.schemas.model import ParsedSchema, SchemaType

PASCAL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
AVRO = frozenset({SchemaType.AVRO})


def named_types(schema: ParsedSchema) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each named type defined in the schema itself, with the pointer where it is defined."""
    assert isinstance(schema, AvroSchema)
    yield from _named(schema.schema, "")


def _named(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, list):
        for index, branch in enumerate(node):
            yield from _named(branch, f"{pointer}/{index}")
    elif isinstance(node, dict):
        if node["type"] in NAMED:
            yield pointer or "/", node
        if node["type"] in ("record", "error"):
            for field in node["fields"]:
                yield from _named(field["type"], f"{pointer}/fields/{field['name']}/type")
        elif node["type"] == "array":
            yield from _named(node["items"], f"{pointer}/items")
        elif node["type"] == "map":
            yield from _named(node["values"], f"{pointer}/values")


def _records(schema: ParsedSchema) -> Iterator[tuple[str, dict[str, Any]]]:
    return ((p, n) for p, n in named_types(schema) if n["type"] in ("record", "error"))


def _fields(schema: ParsedSchema) -> Iterator[tuple[str, dict[str, Any]]]:
    for pointer, record in _records(schema):
        for field in record["fields"]:
            yield f"{pointer.rstrip('/')}/fields/{field['name']}", field


def namespace_required(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for pointer, node in named_types(schema):
        if "." not in node["name"]:
            yield pointer, f"{node['type']} {node['name']} has no namespace"
        return


def record_name_pascal_case(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for pointer, node in named_types(schema):
        short = node["name"].rpartition(".")[2]
        if not PASCAL.match(short):
            yield f"{pointer.rstrip('/')}/name", f"{node['type']} name {short!r} is not PascalCase"


def field_name_snake_case(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for pointer, field in _fields(schema):
        if not SNAKE.match(field["name"]):
            yield pointer, f"field name {field['name']!r} is not snake_case"


def doc_required(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for pointer, record in _records(schema):
        if not record.get("doc"):
            yield pointer, f"record {record['name']} has no doc"
    for pointer, field in _fields(schema):
        if not field.get("doc"):
            yield pointer, f"field {field['name']} has no doc"


def enum_symbols_upper_snake(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for pointer, node in named_types(schema):
        if node["type"] == "enum":
            for symbol in node["symbols"]:
                if not UPPER_SNAKE.match(symbol):
                    yield (
                        f"{pointer.rstrip('/')}/symbols/{symbol}",
                        f"enum symbol {symbol!r} is not UPPER_SNAKE_CASE",
                    )


def enum_default_required(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for pointer, node in named_types(schema):
        if node["type"] == "enum" and "default" not in node:
            yield pointer, f"enum {node['name']} has no default, so adding a symbol later breaks old readers"


RULES = [
    Rule(
        "avro.namespace-required",
        "the top-level named type has a namespace",
        Severity.WARN,
        AVRO,
        namespace_required,
    ),
    Rule(
        "avro.record-name-pascal-case",
        "record, enum and fixed names are PascalCase",
        Severity.WARN,
        AVRO,
        record_name_pascal_case,
    ),
    Rule(
        "avro.field-name-snake-case", "field names are snake_case", Severity.WARN, AVRO, field_name_snake_case
    ),
    Rule("avro.doc-required", "records and fields carry a doc", Severity.WARN, AVRO, doc_required),
    Rule(
        "avro.enum-symbols-upper-snake",
        "enum symbols are UPPER_SNAKE_CASE",
        Severity.WARN,
        AVRO,
        enum_symbols_upper_snake,
    ),
    Rule(
        "avro.enum-default-required",
        "enums declare a default so symbols can be added compatibly",
        Severity.WARN,
        AVRO,
        enum_default_required,
    ),
]
