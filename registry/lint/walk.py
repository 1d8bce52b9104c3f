"""Field walks shared by lint rules: every field of a schema with its dotted path, pointer and tags."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from registry.schemas.avro import TAGS_KEY, AvroSchema
from registry.schemas.jsonschema import JsonSchema
from registry.schemas.model import ParsedSchema
from registry.schemas.protobuf import TYPE_MESSAGE, ProtobufSchema, field_tags


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A field: dotted ``name_path``, ``pointer`` into the schema, own tags, whether it nests fields, and
    ``node``, the field as written (an Avro field object, a FieldDescriptorProto, a JSON property schema)."""

    name_path: str
    pointer: str
    tags: tuple[str, ...]
    nested: bool
    node: Any


def fields(schema: ParsedSchema) -> Iterator[FieldInfo]:
    """Every field of ``schema`` in order, depth first; a recursive type stops at its second occurrence."""
    if isinstance(schema, AvroSchema):
        yield from _avro(schema, schema.schema, "", "", frozenset())
    elif isinstance(schema, ProtobufSchema):
        for name, message in schema.top_level_messages()[:1]:
            yield from _proto(schema, message, "", f"/messages/{message.name}", frozenset({name}))
    elif isinstance(schema, JsonSchema):
        yield from _json(schema, schema.document, "", "", frozenset())


def _avro(
    schema: AvroSchema, node: Any, prefix: str, pointer: str, seen: frozenset[str]
) -> Iterator[FieldInfo]:
    node = schema.resolve(node)
    if isinstance(node, list):
        for index, branch in enumerate(node):
            yield from _avro(schema, branch, prefix, f"{pointer}/{index}", seen)
    elif isinstance(node, dict) and node["type"] == "array":
        yield from _avro(schema, node["items"], prefix, f"{pointer}/items", seen)
    elif isinstance(node, dict) and node["type"] == "map":
        yield from _avro(schema, node["values"], prefix, f"{pointer}/values", seen)
    elif isinstance(node, dict) and node["type"] in ("record", "error") and node["name"] not in seen:
        seen = seen | {node["name"]}
        for field in node["fields"]:
            path = f"{prefix}.{field['name']}" if prefix else field["name"]
            where = f"{pointer}/fields/{field['name']}"
            tags = tuple(field.get(TAGS_KEY, ()))
            yield FieldInfo(path, where, tags, _avro_nested(schema, field["type"]), field)
            yield from _avro(schema, field["type"], path, f"{where}/type", seen)


def _avro_nested(schema: AvroSchema, node: Any) -> bool:
    node = schema.resolve(node)
    if isinstance(node, list):
        return any(_avro_nested(schema, branch) for branch in node)
    if isinstance(node, dict) and node["type"] == "array":
        return _avro_nested(schema, node["items"])
    if isinstance(node, dict) and node["type"] == "map":
        return _avro_nested(schema, node["values"])
    return isinstance(node, dict) and node["type"] in ("record", "error")


def _proto(
    schema: ProtobufSchema, message: Any, prefix: str, pointer: str, seen: frozenset[str]
) -> Iterator[FieldInfo]:
    for field in message.field:
        path = f"{prefix}.{field.name}" if prefix else field.name
        where = f"{pointer}/fields/{field.name}"
        target = schema.messages.get(field.type_name) if field.type == TYPE_MESSAGE else None
        yield FieldInfo(path, where, field_tags(field), target is not None, field)
        if target is not None and field.type_name not in seen:
            yield from _proto(schema, target, path, where, seen | {field.type_name})


def _json(
    schema: JsonSchema, node: Any, prefix: str, pointer: str, seen: frozenset[int]
) -> Iterator[FieldInfo]:
    node = schema.resolve(node)
    if not isinstance(node, dict) or id(node) in seen:
        return
    seen = seen | {id(node)}
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            path = f"{prefix}.{name}" if prefix else name
            where = f"{pointer}/properties/{name}"
            target = schema.resolve(sub)
            tags = sub.get("confluent:tags") if isinstance(sub, dict) else None
            tags = tags or (target.get("confluent:tags") if isinstance(target, dict) else None)
            nested = isinstance(target, dict) and isinstance(target.get("properties"), dict)
            yield FieldInfo(path, where, tuple(str(t) for t in tags or ()), nested, sub)
            yield from _json(schema, sub, path, where, seen)
    items = node.get("items")
    if isinstance(items, dict):
        yield from _json(schema, items, prefix, f"{pointer}/items", seen)
