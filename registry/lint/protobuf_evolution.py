"""Protobuf lint rules against the previous version, in buf's WIRE and WIRE_JSON spirit.

Confluent's compatibility accepts a removed field or enum value and a renamed one; these rules let a
subject insist that removals reserve their number and name, and that JSON names stay put.
"""

from __future__ import annotations

from collections.abc import Iterator

from registry.compatibility.protobuf import message_path
from registry.lint.model import ChangeRule, Severity
from registry.lint.protobuf import PROTOBUF
from registry.schemas.model import ParsedSchema
from registry.schemas.protobuf import EnumProto, FieldProto, MessageProto, ProtobufSchema, default_json_name


def _pair(previous: ParsedSchema, schema: ParsedSchema) -> tuple[ProtobufSchema, ProtobufSchema]:
    assert isinstance(previous, ProtobufSchema)
    assert isinstance(schema, ProtobufSchema)
    return previous, schema


def _messages(
    previous: ProtobufSchema, schema: ProtobufSchema
) -> Iterator[tuple[str, MessageProto, MessageProto]]:
    for name, old in previous.messages.items():
        new = schema.messages.get(name)
        if name in previous.own_types and new is not None and not old.options.map_entry:
            yield message_path(previous, name), old, new


def _enums(previous: ProtobufSchema, schema: ProtobufSchema) -> Iterator[tuple[str, EnumProto, EnumProto]]:
    for name, old in previous.enums.items():
        new = schema.enums.get(name)
        if name in previous.own_types and new is not None:
            yield message_path(previous, name).replace("/messages/", "/enums/", 1), old, new


def _missing(number_reserved: bool, name_reserved: bool) -> str:
    return " and ".join(
        part for part, done in (("number", number_reserved), ("name", name_reserved)) if not done
    )


def field_removed_reserved(previous: ParsedSchema, schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for path, old, new in _messages(*_pair(previous, schema)):
        numbers = {field.number for field in new.field}
        for field in old.field:
            if field.number in numbers:
                continue
            by_number = any(r.start <= field.number < r.end for r in new.reserved_range)
            missing = _missing(by_number, field.name in new.reserved_name)
            if missing:
                yield (
                    f"{path}/fields/{field.name}",
                    f"field {field.name} ({field.number}) was removed without reserving its {missing}",
                )


def enum_value_removed_reserved(previous: ParsedSchema, schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    for path, old, new in _enums(*_pair(previous, schema)):
        numbers = {value.number for value in new.value}
        for value in old.value:
            if value.number in numbers:
                continue
            by_number = any(r.start <= value.number <= r.end for r in new.reserved_range)  # inclusive ranges
            missing = _missing(by_number, value.name in new.reserved_name)
            if missing:
                yield (
                    f"{path}/values/{value.name}",
                    f"enum value {value.name} ({value.number}) of {old.name} was removed without reserving "
                    f"its {missing}",
                )


def _json_name(field: FieldProto) -> str:
    return field.json_name or default_json_name(field.name)


def json_name_stable(previous: ParsedSchema, schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    old_schema, new_schema = _pair(previous, schema)
    for path, old, new in _messages(old_schema, new_schema):
        before = {field.number: field for field in old.field}
        for field in new.field:
            was = before.get(field.number)
            if was is not None and _json_name(was) != _json_name(field):
                yield (
                    f"{path}/fields/{field.name}",
                    f"field number {field.number} was {was.name} and is now {field.name}, which changes its "
                    f"JSON name from {_json_name(was)} to {_json_name(field)}",
                )
    for path, old_enum, new_enum in _enums(old_schema, new_schema):
        names = {value.number: value.name for value in old_enum.value}
        for value in new_enum.value:
            if value.number in names and names[value.number] != value.name:
                yield (
                    f"{path}/values/{value.name}",
                    f"enum value {value.number} of {new_enum.name} was {names[value.number]} and is now "
                    f"{value.name}, which changes its JSON encoding",
                )


RULES = [
    ChangeRule(
        "proto.field-removed-reserved",
        "a field removed since the previous version reserves its number and name (buf WIRE_JSON)",
        Severity.WARN,
        PROTOBUF,
        field_removed_reserved,
    ),
    ChangeRule(
        "proto.enum-value-removed-reserved",
        "an enum value removed since the previous version reserves its number and name (buf WIRE_JSON)",
        Severity.WARN,
        PROTOBUF,
        enum_value_removed_reserved,
    ),
    ChangeRule(
        "proto.json-name-stable",
        "fields and enum values keep the JSON names they had in the previous version (buf WIRE_JSON)",
        Severity.WARN,
        PROTOBUF,
        json_name_stable,
    ),
]
