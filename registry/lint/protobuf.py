"""Protobuf lint rules in buf's spirit: package set, naming conventions, enum zero values."""

from __future__ import annotations

import re
from collections.abc import Iterator

from registry.lint.avro import PASCAL, SNAKE, UPPER_SNAKE
from registry.lint.model import Rule, Severity
from registry.schemas.model import ParsedSchema, SchemaType
from registry.schemas.protobuf import EnumProto, MessageProto, ProtobufSchema

PROTOBUF = frozenset({SchemaType.PROTOBUF})
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _own(schema: ParsedSchema) -> ProtobufSchema:
    assert isinstance(schema, ProtobufSchema)
    return schema


def _messages(schema: ParsedSchema) -> Iterator[tuple[str, MessageProto]]:
    def walk(messages: list[MessageProto], prefix: str) -> Iterator[tuple[str, MessageProto]]:
        for message in messages:
            name = f"{prefix}.{message.name}" if prefix else message.name
            if not message.options.map_entry:
                yield name, message
            yield from walk(list(message.nested_type), name)

    yield from walk(list(_own(schema).file.message_type), "")


def _enums(schema: ParsedSchema) -> Iterator[tuple[str, EnumProto]]:
    for enum in _own(schema).file.enum_type:
        yield enum.name, enum
    for name, message in _messages(schema):
        for enum in message.enum_type:
            yield f"{name}.{enum.name}", enum


def package_required(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    if not _own(schema).file.package:
        yield "/package", "the file declares no package"


def message_pascal_case(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for name, message in _messages(schema):
        if not PASCAL.match(message.name):
            yield f"/messages/{name}", f"message name {message.name!r} is not PascalCase"


def field_lower_snake_case(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for name, message in _messages(schema):
        for field in message.field:
            if not SNAKE.match(field.name):
                yield (
                    f"/messages/{name}/fields/{field.name}",
                    f"field name {field.name!r} is not lower_snake_case",
                )


def enum_zero_unspecified(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for name, enum in _enums(schema):
        zero = next((value for value in enum.value if value.number == 0), None)
        expected = _WORD_BOUNDARY.sub("_", enum.name).upper() + "_UNSPECIFIED"
        if zero is None or not zero.name.endswith("_UNSPECIFIED"):
            found = f"is {zero.name}" if zero else "is missing"
            yield f"/enums/{name}", f"enum {enum.name}'s zero value {found}; name it {expected}"


def enum_value_upper_snake(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for name, enum in _enums(schema):
        for value in enum.value:
            if not UPPER_SNAKE.match(value.name):
                yield (
                    f"/enums/{name}/values/{value.name}",
                    f"enum value {value.name!r} is not UPPER_SNAKE_CASE",
                )


RULES = [
    Rule("proto.package-required", "the file declares a package", Severity.WARN, PROTOBUF, package_required),
    Rule(
        "proto.message-pascal-case",
        "message names are PascalCase",
        Severity.WARN,
        PROTOBUF,
        message_pascal_case,
    ),
    Rule(
        "proto.field-lower-snake-case",
        "field names are lower_snake_case",
        Severity.WARN,
        PROTOBUF,
        field_lower_snake_case,
    ),
    Rule(
        "proto.enum-zero-unspecified",
        "each enum's zero value ends in _UNSPECIFIED",
        Severity.WARN,
        PROTOBUF,
        enum_zero_unspecified,
    ),
    Rule(
        "proto.enum-value-upper-snake",
        "enum values are UPPER_SNAKE_CASE",
        Severity.WARN,
        PROTOBUF,
        enum_value_upper_snake,
    ),
]
