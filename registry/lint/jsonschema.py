"""JSON Schema lint rules: titles, descriptions and an explicit content model."""

from __future__ import annotations

from collections.abc import Iterator

from registry.lint.model import Rule, Severity
from registry.lint.walk import fields
from registry.schemas.jsonschema import JsonSchema
from registry.schemas.model import ParsedSchema, SchemaType

JSON = frozenset({SchemaType.JSON})


def _document(schema: ParsedSchema) -> object:
    assert isinstance(schema, JsonSchema)
    return schema.resolve(schema.document)


def title_required(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    document = _document(schema)
    if not isinstance(document, dict) or not document.get("title"):
        yield "/title", "the schema has no title"


def description_required(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    assert isinstance(schema, JsonSchema)
    for info in fields(schema):
        target = schema.resolve(info.node)
        own = info.node.get("description") if isinstance(info.node, dict) else None
        if not own and not (isinstance(target, dict) and target.get("description")):
            yield info.pointer, f"property {info.name_path} has no description"


def additional_properties_explicit(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    document = _document(schema)
    if (
        isinstance(document, dict)
        and document.get("type") == "object"
        and "additionalProperties" not in document
    ):
        yield "/additionalProperties", "the root object does not say whether other properties are allowed"


RULES = [
    Rule("json.title-required", "the root schema has a title", Severity.WARN, JSON, title_required),
    Rule(
        "json.description-required",
        "properties carry a description",
        Severity.WARN,
        JSON,
        description_required,
    ),
    Rule(
        "json.additional-properties-explicit",
        "the root object states additionalProperties",
        Severity.OFF,
        JSON,
        additional_properties_explicit,
    ),
]
