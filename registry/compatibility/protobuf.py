"""Protobuf compatibility by wire rules, at least as strict as buf's WIRE and WIRE_JSON categories.

``can_read`` compares messages of the same full name field by field number: type changes that are not
wire-safe widenings, repeated/singular label changes, proto2 required fields the writer may omit, fields
moved into or out of a oneof, JSON-name changes and renamed enum values. ``evolution`` holds the rules
that depend on which schema is older: a removed field or enum value must have its number and its name
reserved (buf's WIRE and WIRE_JSON), and a top-level message may not disappear (Confluent clients
address messages by their index in the file).
"""

from __future__ import annotations

import logging

from google.protobuf import descriptor_pb2

from registry.compatibility.model import Incompatibility
from registry.schemas.model import ParsedSchema
from registry.schemas.protobuf import ProtobufSchema, default_json_name

logger = logging.getLogger(__name__)

Field = descriptor_pb2.FieldDescriptorProto
Message = descriptor_pb2.DescriptorProto
Enum = descriptor_pb2.EnumDescriptorProto

# (writer type, reader type) pairs whose values the reader decodes without loss.
SAFE_WIDENINGS = frozenset(
    {
        (Field.TYPE_INT32, Field.TYPE_INT64),
        (Field.TYPE_UINT32, Field.TYPE_UINT64),
        (Field.TYPE_UINT32, Field.TYPE_INT64),
        (Field.TYPE_SINT32, Field.TYPE_SINT64),
        (Field.TYPE_STRING, Field.TYPE_BYTES),
    }
)


def type_label(field: Field) -> str:
    """A field's declared type as written in .proto text."""
    if field.type in (Field.TYPE_MESSAGE, Field.TYPE_ENUM, Field.TYPE_GROUP):
        return field.type_name.lstrip(".")
    return Field.Type.Name(field.type).removeprefix("TYPE_").lower()


def message_path(schema: ProtobufSchema, full_name: str) -> str:
    """``/messages/User.Address`` for ``.pkg.User.Address``."""
    prefix = schema.package_prefix + "."
    short = full_name[len(prefix) :] if full_name.startswith(prefix) else full_name.lstrip(".")
    return f"/messages/{short}"


def can_read(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why ``reader`` cannot decode messages written with ``writer``."""
    assert isinstance(reader, ProtobufSchema)
    assert isinstance(writer, ProtobufSchema)
    found: list[Incompatibility] = []
    for name, w_message in writer.messages.items():
        r_message = reader.messages.get(name)
        if r_message is not None:
            found.extend(_compare_message(r_message, w_message, message_path(writer, name)))
    for name, w_enum in writer.enums.items():
        r_enum = reader.enums.get(name)
        if r_enum is not None:
            enum_path = message_path(writer, name).replace("/messages/", "/enums/")
            found.extend(_renamed_values(r_enum, w_enum, enum_path))
    return found


def evolution(old: ParsedSchema, new: ParsedSchema) -> list[Incompatibility]:
    """Rules that depend on which schema is older: removals need reservations."""
    assert isinstance(old, ProtobufSchema)
    assert isinstance(new, ProtobufSchema)
    found: list[Incompatibility] = []
    new_top = {name for name, _ in new.top_level_messages()}
    for name, _ in old.top_level_messages():
        if name not in new_top:
            found.append(
                Incompatibility(
                    message_path(old, name),
                    f"message {name.lstrip('.')} was removed",
                    "message-removed",
                )
            )
    for name, old_message in old.messages.items():
        new_message = new.messages.get(name)
        if new_message is not None:
            found.extend(_removed_fields(old_message, new_message, message_path(old, name)))
    for name, old_enum in old.enums.items():
        new_enum = new.enums.get(name)
        if new_enum is not None:
            found.extend(
                _removed_values(old_enum, new_enum, message_path(old, name).replace("/messages/", "/enums/"))
            )
    return found


def _in_oneof(message: Message, field: Field) -> str | None:
    if not field.HasField("oneof_index") or field.proto3_optional:
        return None
    return message.oneof_decl[field.oneof_index].name


def _json_name(field: Field) -> str:
    return field.json_name or default_json_name(field.name)


def _compare_message(reader: Message, writer: Message, path: str) -> list[Incompatibility]:
    found: list[Incompatibility] = []
    reader_fields = {field.number: field for field in reader.field}
    writer_numbers = {field.number for field in writer.field}
    for w_field in writer.field:
        r_field = reader_fields.get(w_field.number)
        if r_field is not None:
            found.extend(compare_field(reader, r_field, writer, w_field, f"{path}/fields/{w_field.name}"))
    for r_field in reader.field:
        if r_field.label == Field.LABEL_REQUIRED and r_field.number not in writer_numbers:
            found.append(
                Incompatibility(
                    f"{path}/fields/{r_field.name}",
                    f"required field {r_field.name} ({r_field.number}) is missing from the writer",
                    "required-field-added",
                )
            )
    return found


def compare_field(
    reader: Message, r_field: Field, writer: Message, w_field: Field, path: str
) -> list[Incompatibility]:
    found: list[Incompatibility] = []
    number = w_field.number
    if r_field.name != w_field.name or _json_name(r_field) != _json_name(w_field):
        found.append(
            Incompatibility(
                path,
                f"field number {number} is named {w_field.name} by the writer but {r_field.name} by the "
                "reader, which changes its JSON encoding",
                "field-name-changed",
            )
        )
    if (r_field.label == Field.LABEL_REPEATED) != (w_field.label == Field.LABEL_REPEATED):
        found.append(
            Incompatibility(
                f"{path}/label",
                f"field {w_field.name} ({number}) changed between repeated and singular",
                "field-label-changed",
            )
        )
    if r_field.label == Field.LABEL_REQUIRED and w_field.label != Field.LABEL_REQUIRED:
        found.append(
            Incompatibility(
                f"{path}/label",
                f"field {w_field.name} ({number}) is required by the reader but optional for the writer",
                "required-field-added",
            )
        )
    same_type = r_field.type == w_field.type and r_field.type_name == w_field.type_name
    if not same_type and (w_field.type, r_field.type) not in SAFE_WIDENINGS:
        found.append(
            Incompatibility(
                f"{path}/type",
                f"field {w_field.name} ({number}) has type {type_label(r_field)} in the reader but "
                f"{type_label(w_field)} in the writer, which is not wire compatible",
                "field-type-changed",
            )
        )
    r_oneof, w_oneof = _in_oneof(reader, r_field), _in_oneof(writer, w_field)
    if r_oneof != w_oneof:
        found.append(
            Incompatibility(
                f"{path}/oneof",
                f"field {w_field.name} ({number}) is in {_oneof_label(w_oneof)} for the writer but in "
                f"{_oneof_label(r_oneof)} for the reader",
                "field-oneof-changed",
            )
        )
    return found


def _oneof_label(name: str | None) -> str:
    return f"oneof {name}" if name else "no oneof"


def _reserved(ranges: list[tuple[int, int]], number: int) -> bool:
    return any(start <= number < end for start, end in ranges)


def _unreserved(number_reserved: bool, name_reserved: bool) -> str:
    missing = [part for part, done in (("number", number_reserved), ("name", name_reserved)) if not done]
    return " and ".join(missing)


def _removed_fields(old: Message, new: Message, path: str) -> list[Incompatibility]:
    numbers = {field.number for field in new.field}
    ranges = [(r.start, r.end) for r in new.reserved_range]
    found = []
    for field in old.field:
        if field.number in numbers:
            continue
        missing = _unreserved(_reserved(ranges, field.number), field.name in new.reserved_name)
        if missing:
            found.append(
                Incompatibility(
                    f"{path}/fields/{field.name}",
                    f"field {field.name} ({field.number}) was removed without reserving its {missing}",
                    "field-removed-not-reserved",
                )
            )
    return found


def _removed_values(old: Enum, new: Enum, path: str) -> list[Incompatibility]:
    numbers = {value.number for value in new.value}
    ranges = [(r.start, r.end + 1) for r in new.reserved_range]  # enum reserved ranges are inclusive
    found = []
    for value in old.value:
        if value.number in numbers:
            continue
        missing = _unreserved(_reserved(ranges, value.number), value.name in new.reserved_name)
        if missing:
            found.append(
                Incompatibility(
                    f"{path}/values/{value.name}",
                    f"enum value {value.name} ({value.number}) of {old.name} was removed without reserving "
                    f"its {missing}",
                    "enum-value-removed",
                )
            )
    return found


def _renamed_values(reader: Enum, writer: Enum, path: str) -> list[Incompatibility]:
    names: dict[int, list[str]] = {}
    for value in reader.value:
        names.setdefault(value.number, []).append(value.name)
    return [
        Incompatibility(
            f"{path}/values/{value.name}",
            f"enum value {value.number} of {writer.name} is named {value.name} by the writer but "
            f"{' or '.join(names[value.number])} by the reader, which changes its JSON encoding",
            "enum-value-renamed",
        )
        for value in writer.value
        if value.number in names and value.name not in names[value.number]
    ]
