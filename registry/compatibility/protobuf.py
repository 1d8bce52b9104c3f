"""Protobuf compatibility by Confluent's rules (``io.confluent.kafka.schemaregistry.protobuf.diff``).

``differences(original, update)`` lists every Confluent ``Difference.Type`` from the writer's schema
(``original``) to the reader's (``update``); ``can_read`` refuses those outside ``COMPATIBLE_CHANGES``.
Fields are matched by number, scalar types by wire group (varint, zigzag, 32-bit, 64-bit, length-delimited
string/bytes), message-typed fields by type name and then deeply. Confluent checks no services and needs
no ``reserved``; buf's stricter "reserve what you remove" lives in the lint rules (``registry.lint``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from google.protobuf import descriptor_pb2

from registry.compatibility.model import Incompatibility
from registry.schemas.model import ParsedSchema
from registry.schemas.protobuf import ProtobufSchema

logger = logging.getLogger(__name__)

Field = descriptor_pb2.FieldDescriptorProto
Message = descriptor_pb2.DescriptorProto
Enum = descriptor_pb2.EnumDescriptorProto
FileProto = descriptor_pb2.FileDescriptorProto


class Difference(StrEnum):
    """Confluent's ``protobuf.diff.Difference.Type`` values."""

    PACKAGE_CHANGED = "PACKAGE_CHANGED"
    MESSAGE_ADDED = "MESSAGE_ADDED"
    MESSAGE_REMOVED = "MESSAGE_REMOVED"
    MESSAGE_MOVED = "MESSAGE_MOVED"
    ENUM_ADDED = "ENUM_ADDED"
    ENUM_REMOVED = "ENUM_REMOVED"
    ENUM_CONST_ADDED = "ENUM_CONST_ADDED"
    ENUM_CONST_CHANGED = "ENUM_CONST_CHANGED"
    ENUM_CONST_REMOVED = "ENUM_CONST_REMOVED"
    FIELD_ADDED = "FIELD_ADDED"
    FIELD_REMOVED = "FIELD_REMOVED"
    FIELD_NAME_CHANGED = "FIELD_NAME_CHANGED"
    FIELD_KIND_CHANGED = "FIELD_KIND_CHANGED"
    FIELD_SCALAR_KIND_CHANGED = "FIELD_SCALAR_KIND_CHANGED"
    FIELD_NAMED_TYPE_CHANGED = "FIELD_NAMED_TYPE_CHANGED"
    FIELD_NUMERIC_LABEL_CHANGED = "FIELD_NUMERIC_LABEL_CHANGED"
    FIELD_STRING_OR_BYTES_LABEL_CHANGED = "FIELD_STRING_OR_BYTES_LABEL_CHANGED"
    REQUIRED_FIELD_ADDED = "REQUIRED_FIELD_ADDED"
    REQUIRED_FIELD_REMOVED = "REQUIRED_FIELD_REMOVED"
    ONEOF_ADDED = "ONEOF_ADDED"
    ONEOF_REMOVED = "ONEOF_REMOVED"
    ONEOF_FIELD_ADDED = "ONEOF_FIELD_ADDED"
    ONEOF_FIELD_REMOVED = "ONEOF_FIELD_REMOVED"
    ONEOF_FIELD_MOVED_TO_TOP_LEVEL = "ONEOF_FIELD_MOVED_TO_TOP_LEVEL"
    MULTIPLE_FIELDS_MOVED_TO_ONEOF = "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
    FIELD_MOVED_TO_EXISTING_ONEOF = "FIELD_MOVED_TO_EXISTING_ONEOF"


# Confluent's SchemaDiff.COMPATIBLE_CHANGES; every other difference is incompatible.
COMPATIBLE_CHANGES = frozenset(
    {
        Difference.MESSAGE_ADDED,
        Difference.MESSAGE_MOVED,
        Difference.ENUM_ADDED,
        Difference.ENUM_REMOVED,
        Difference.ENUM_CONST_ADDED,
        Difference.ENUM_CONST_CHANGED,
        Difference.ENUM_CONST_REMOVED,
        Difference.FIELD_ADDED,
        Difference.FIELD_REMOVED,
        Difference.FIELD_NAME_CHANGED,
        Difference.FIELD_STRING_OR_BYTES_LABEL_CHANGED,
        Difference.ONEOF_ADDED,
        Difference.ONEOF_REMOVED,
        Difference.ONEOF_FIELD_ADDED,
        Difference.ONEOF_FIELD_MOVED_TO_TOP_LEVEL,
    }
)

# Confluent's ScalarKind groups (an enum is GENERAL_NUMBER); a type change inside a group is compatible.
_SCALAR_KINDS = {
    Field.TYPE_INT32: "GENERAL_NUMBER",
    Field.TYPE_INT64: "GENERAL_NUMBER",
    Field.TYPE_UINT32: "GENERAL_NUMBER",
    Field.TYPE_UINT64: "GENERAL_NUMBER",
    Field.TYPE_BOOL: "GENERAL_NUMBER",
    Field.TYPE_ENUM: "GENERAL_NUMBER",
    Field.TYPE_SINT32: "SIGNED_NUMBER",
    Field.TYPE_SINT64: "SIGNED_NUMBER",
    Field.TYPE_STRING: "STRING_OR_BYTES",
    Field.TYPE_BYTES: "STRING_OR_BYTES",
    Field.TYPE_FIXED32: "FIXED32",
    Field.TYPE_SFIXED32: "FIXED32",
    Field.TYPE_FIXED64: "FIXED64",
    Field.TYPE_SFIXED64: "FIXED64",
    Field.TYPE_FLOAT: "FLOAT",
    Field.TYPE_DOUBLE: "DOUBLE",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One Confluent difference at a path of ours (``/messages/User/fields/email``), with a sentence."""

    type: Difference
    path: str
    detail: str

    @property
    def compatible(self) -> bool:
        return self.type in COMPATIBLE_CHANGES

    def incompatibility(self) -> Incompatibility:
        return Incompatibility(self.path, f"{self.type.value} at {self.path}: {self.detail}", self.type.value)


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
    """Why ``reader`` cannot decode messages written with ``writer``: Confluent's incompatible differences."""
    assert isinstance(reader, ProtobufSchema)
    assert isinstance(writer, ProtobufSchema)
    return [c.incompatibility() for c in differences(writer, reader) if not c.compatible]


def differences(original: ProtobufSchema, update: ProtobufSchema) -> list[Change]:
    """Every difference from ``original`` (the writer) to ``update`` (the reader), compatible or not."""
    return _Diff(original, update).run()


class _Side:
    """One schema with, for each type it can see, the package and syntax of the file defining it."""

    def __init__(self, schema: ProtobufSchema) -> None:
        self.schema = schema
        self.package: dict[str, str] = {}
        self.syntax: dict[str, str] = {}
        for file in [*schema.dependencies, schema.file]:
            prefix = f".{file.package}" if file.package else ""
            self._index(file, prefix, file.message_type, file.enum_type)

    def _index(
        self, file: FileProto, prefix: str, messages: Iterable[Message], enums: Iterable[Enum]
    ) -> None:
        for enum in enums:
            self.package[f"{prefix}.{enum.name}"] = file.package
        for message in messages:
            full = f"{prefix}.{message.name}"
            self.package[full] = file.package
            self.syntax[full] = file.syntax or "proto2"
            self._index(file, full, message.nested_type, message.enum_type)

    def label(self, message: str, field: Field, in_oneof: bool) -> str | None:
        """Confluent's label: none for oneof members and for proto3 fields written without a keyword."""
        if in_oneof:
            return None
        if field.proto3_optional:
            return "optional"
        if field.label == Field.LABEL_REPEATED:
            return "repeated"
        if self.syntax.get(message) == "proto3":
            return None
        return "required" if field.label == Field.LABEL_REQUIRED else "optional"

    def map_entry(self, field: Field) -> Message | None:
        target = self.schema.messages.get(field.type_name) if field.type == Field.TYPE_MESSAGE else None
        return target if target is not None and target.options.map_entry else None

    def local_name(self, full_name: str) -> str:
        package = self.package.get(full_name, "")
        name = full_name.lstrip(".")
        return name[len(package) + 1 :] if package and name.startswith(package + ".") else name


@dataclass(frozen=True, slots=True)
class _Fields:
    by_number: dict[int, Field]
    oneof_of: dict[int, str]
    oneofs: dict[str, list[int]]

    @classmethod
    def of(cls, message: Message) -> _Fields:
        oneof_of: dict[int, str] = {}
        oneofs: dict[str, list[int]] = {}
        for field in message.field:
            if field.HasField("oneof_index") and not field.proto3_optional:
                name = message.oneof_decl[field.oneof_index].name
                oneof_of[field.number] = name
                oneofs.setdefault(name, []).append(field.number)
        return cls({f.number: f for f in message.field}, oneof_of, oneofs)


class _Diff:
    def __init__(self, original: ProtobufSchema, update: ProtobufSchema) -> None:
        self.old = _Side(original)
        self.new = _Side(update)
        self.changes: list[Change] = []
        self.compared: dict[tuple[str, str], bool] = {}

    def run(self) -> list[Change]:
        old, new = self.old.schema.file, self.new.schema.file
        if old.package != new.package:
            self.add(
                Difference.PACKAGE_CHANGED,
                "/package",
                f"the writer's package is {old.package or '(none)'} but the reader's is "
                f"{new.package or '(none)'}",
            )
        self.types(
            (self.old.schema.package_prefix, old.message_type, old.enum_type),
            (self.new.schema.package_prefix, new.message_type, new.enum_type),
        )
        return list(dict.fromkeys(self.changes))

    def add(self, kind: Difference, path: str, detail: str) -> None:
        self.changes.append(Change(kind, path, detail))

    def _path(self, full_name: str) -> str:
        side = self.old if full_name in self.old.package else self.new
        return message_path(side.schema, full_name)

    def types(
        self,
        old: tuple[str, Sequence[Message], Sequence[Enum]],
        new: tuple[str, Sequence[Message], Sequence[Enum]],
    ) -> bool:
        """Compare the messages and enums declared at one level; False when something is incompatible."""
        compatible = True
        old_messages = {m.name: (i, m) for i, m in enumerate(old[1])}
        new_messages = {m.name: (i, m) for i, m in enumerate(new[1])}
        for name in sorted(old_messages.keys() | new_messages.keys()):
            old_full, new_full = f"{old[0]}.{name}", f"{new[0]}.{name}"
            if name not in new_messages:
                if not old_messages[name][1].options.map_entry:
                    path = self._path(old_full)
                    self.add(Difference.MESSAGE_REMOVED, path, f"message {name} is missing from the reader")
                    compatible = False
            elif name not in old_messages:
                if not new_messages[name][1].options.map_entry:
                    self.add(Difference.MESSAGE_ADDED, self._path(new_full), f"message {name} was added")
            elif not (old_messages[name][1].options.map_entry or new_messages[name][1].options.map_entry):
                # Map entries compare through their map field, as when Confluent parses .proto text.
                (old_index, old_message), (new_index, new_message) = old_messages[name], new_messages[name]
                compatible &= self.message(old_full, old_message, new_full, new_message)
                if old_index != new_index:
                    self.add(Difference.MESSAGE_MOVED, self._path(old_full), f"message {name} moved")
        old_enums, new_enums = {e.name: e for e in old[2]}, {e.name: e for e in new[2]}
        for name in sorted(old_enums.keys() | new_enums.keys()):
            path = self._path(f"{old[0]}.{name}" if name in old_enums else f"{new[0]}.{name}")
            path = path.replace("/messages/", "/enums/", 1)
            if name not in new_enums:
                self.add(Difference.ENUM_REMOVED, path, f"enum {name} is missing from the reader")
            elif name not in old_enums:
                self.add(Difference.ENUM_ADDED, path, f"enum {name} was added")
            else:
                self.enum(old_enums[name], new_enums[name], path)
        return compatible

    def enum(self, old: Enum, new: Enum, path: str) -> None:
        old_values, new_values = {v.number: v.name for v in old.value}, {v.number: v.name for v in new.value}
        for number in sorted(old_values.keys() | new_values.keys()):
            if number not in new_values:
                where = f"{path}/values/{old_values[number]}"
                self.add(
                    Difference.ENUM_CONST_REMOVED,
                    where,
                    f"enum value {old_values[number]} ({number}) removed",
                )
            elif number not in old_values:
                where = f"{path}/values/{new_values[number]}"
                self.add(
                    Difference.ENUM_CONST_ADDED, where, f"enum value {new_values[number]} ({number}) added"
                )
            elif old_values[number] != new_values[number]:
                self.add(
                    Difference.ENUM_CONST_CHANGED,
                    f"{path}/values/{new_values[number]}",
                    f"enum value {number} is named {old_values[number]} by the writer but "
                    f"{new_values[number]} by the reader",
                )

    def message(self, old_full: str, old: Message, new_full: str, new: Message) -> bool:
        """Compare two messages once (a cycle counts as compatible); False when incompatible."""
        key = (old_full, new_full)
        if key in self.compared:
            return self.compared[key]
        self.compared[key] = True
        start = len(self.changes)
        compatible = self._fields(old_full, old, new_full, new)
        compatible &= self.types(
            (old_full, old.nested_type, old.enum_type), (new_full, new.nested_type, new.enum_type)
        )
        compatible &= all(c.compatible for c in self.changes[start:])
        self.compared[key] = compatible
        return compatible

    def _fields(self, old_full: str, old: Message, new_full: str, new: Message) -> bool:
        path = self._path(old_full)
        before, after = _Fields.of(old), _Fields.of(new)
        compatible = True
        deleted_oneofs = {
            name
            for name, numbers in before.oneofs.items()
            if name not in after.oneofs and not any(n in after.by_number for n in numbers)
        }
        for name, numbers in after.oneofs.items():
            origins = set()
            moved_in = 0
            for number in numbers:
                if number in before.oneof_of:
                    origins.add(f"oneof:{before.oneof_of[number]}")
                elif number in before.by_number:
                    origins.add(f"field:{number}")
                    moved_in += 1
            if len(origins) > 1:
                kind = (
                    Difference.MULTIPLE_FIELDS_MOVED_TO_ONEOF
                    if moved_in > 1
                    else Difference.FIELD_MOVED_TO_EXISTING_ONEOF
                )
                self.add(
                    kind,
                    f"{path}/oneofs/{name}",
                    f"oneof {name} makes fields the writer sets independently mutually exclusive",
                )
        for name in sorted(before.oneofs.keys() | after.oneofs.keys()):
            if name not in after.oneofs:
                self.add(Difference.ONEOF_REMOVED, f"{path}/oneofs/{name}", f"oneof {name} removed")
            elif name not in before.oneofs:
                self.add(Difference.ONEOF_ADDED, f"{path}/oneofs/{name}", f"oneof {name} added")
        for number in sorted(before.by_number.keys() | after.by_number.keys()):
            old_field, new_field = before.by_number.get(number), after.by_number.get(number)
            if new_field is None:
                assert old_field is not None
                where, label = f"{path}/fields/{old_field.name}", f"field {old_field.name} ({number})"
                oneof = before.oneof_of.get(number)
                if oneof is not None:
                    if oneof not in deleted_oneofs:
                        self.add(
                            Difference.ONEOF_FIELD_REMOVED, where, f"{label} of oneof {oneof} was removed"
                        )
                elif self.old.label(old_full, old_field, False) == "required":
                    self.add(Difference.REQUIRED_FIELD_REMOVED, where, f"required {label} was removed")
                else:
                    self.add(Difference.FIELD_REMOVED, where, f"{label} was removed")
            elif old_field is None:
                where, label = f"{path}/fields/{new_field.name}", f"field {new_field.name} ({number})"
                if number in after.oneof_of:
                    self.add(
                        Difference.ONEOF_FIELD_ADDED,
                        where,
                        f"{label} added to oneof {after.oneof_of[number]}",
                    )
                elif self.new.label(new_full, new_field, False) == "required":
                    self.add(
                        Difference.REQUIRED_FIELD_ADDED, where, f"required {label} is missing from the writer"
                    )
                else:
                    self.add(Difference.FIELD_ADDED, where, f"{label} was added")
            else:
                where = f"{path}/fields/{new_field.name}"
                if number in before.oneof_of and number not in after.oneof_of:
                    self.add(
                        Difference.ONEOF_FIELD_MOVED_TO_TOP_LEVEL,
                        where,
                        f"field {new_field.name} ({number}) moved out of oneof {before.oneof_of[number]}",
                    )
                old_label = self.old.label(old_full, old_field, number in before.oneof_of)
                new_label = self.new.label(new_full, new_field, number in after.oneof_of)
                compatible &= self.field(old_field, old_label, new_field, new_label, where)
        return compatible

    def field(self, old: Field, old_label: str | None, new: Field, new_label: str | None, path: str) -> bool:
        if old.name != new.name:
            self.add(
                Difference.FIELD_NAME_CHANGED,
                path,
                f"field number {old.number} is named {old.name} by the writer but {new.name} by the reader",
            )
        return self.labels_and_types(old, old_label, new, new_label, f"{path}/type")

    def labels_and_types(
        self, old: Field, old_label: str | None, new: Field, new_label: str | None, path: str
    ) -> bool:
        old_map, new_map = self.old.map_entry(old), self.new.map_entry(new)
        old_kind, new_kind = _kind(old, old_map), _kind(new, new_map)
        if old_kind != new_kind:
            self.add(
                Difference.FIELD_KIND_CHANGED,
                path,
                f"the writer's {type_label(old)} is a {old_kind} but the reader's {type_label(new)} is a "
                f"{new_kind}",
            )
            return False
        if old_map is not None and new_map is not None:
            keys = self.labels_and_types(old_map.field[0], None, new_map.field[0], None, path)
            return self.labels_and_types(old_map.field[1], None, new_map.field[1], None, path) and keys
        if old_kind == "message":
            return self._message_type(old, new, path)
        old_scalar, new_scalar = _SCALAR_KINDS[old.type], _SCALAR_KINDS[new.type]
        if old_scalar != new_scalar:
            self.add(
                Difference.FIELD_SCALAR_KIND_CHANGED,
                path,
                f"the writer's {type_label(old)} ({old_scalar}) is not wire compatible with the reader's "
                f"{type_label(new)} ({new_scalar})",
            )
            return False
        if old_label is not None and new_label is not None and old_label != new_label:
            text = f"the label changed from {old_label} to {new_label}"
            if old_scalar == "STRING_OR_BYTES":
                self.add(Difference.FIELD_STRING_OR_BYTES_LABEL_CHANGED, path, text)
            else:
                self.add(Difference.FIELD_NUMERIC_LABEL_CHANGED, path, text + " on a numeric field")
                return False
        return True

    def _message_type(self, old: Field, new: Field, path: str) -> bool:
        old_local, new_local = self.old.local_name(old.type_name), self.new.local_name(new.type_name)
        old_message, new_message = (
            self.old.schema.messages.get(old.type_name),
            self.new.schema.messages.get(new.type_name),
        )
        same = old_local == new_local
        if same and old_message is not None and new_message is not None:
            same = self.message(old.type_name, old_message, new.type_name, new_message)
        if not same:
            self.add(
                Difference.FIELD_NAMED_TYPE_CHANGED,
                path,
                f"the writer's message type {old_local} does not match the reader's {new_local}",
            )
        return same


def _kind(field: Field, map_entry: Message | None) -> str:
    if map_entry is not None:
        return "map"
    if field.type in (Field.TYPE_MESSAGE, Field.TYPE_GROUP):
        return "message"
    return "scalar"
