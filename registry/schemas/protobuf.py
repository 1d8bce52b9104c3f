"""Protobuf schemas: .proto text or base64 FileDescriptorProto, compiled by protoc, held as descriptors.

Classification tags are read from the ``(confluent.field_meta).tags`` field option, found in the options'
wire bytes so it works whether or not the process registered Confluent's ``meta.proto`` extension.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError, Message

from registry.errors import InvalidSchemaError
from registry.schemas.model import ParsedSchema, SchemaType, TaggedField
from registry.schemas.proto_text import render_proto
from registry.schemas.protoc import compile_schema, decode_serialized
from registry.schemas.wire import field_values, without_field

logger = logging.getLogger(__name__)

CONFLUENT_META_FIELD = 1088
META_TAGS_FIELD = 3

TYPE_MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE

FileProto = descriptor_pb2.FileDescriptorProto
MessageProto = descriptor_pb2.DescriptorProto
EnumProto = descriptor_pb2.EnumDescriptorProto
FieldProto = descriptor_pb2.FieldDescriptorProto


class ProtobufSchema(ParsedSchema):
    """A compiled Protobuf schema: the main ``file``, and ``messages``/``enums`` by full name."""

    schema_type = SchemaType.PROTOBUF

    def __init__(self, raw: str, file: FileProto, dependencies: list[FileProto]) -> None:
        self.raw = raw
        self.file = file
        self.dependencies = dependencies
        self._text: str | None = None
        self.messages: dict[str, MessageProto] = {}
        self.enums: dict[str, EnumProto] = {}
        for each in dependencies:
            prefix = f".{each.package}" if each.package else ""
            self._index(prefix, each.message_type, each.enum_type)
        before = set(self.messages) | set(self.enums)
        self._index(self.package_prefix, file.message_type, file.enum_type)
        self.own_types: frozenset[str] = frozenset((set(self.messages) | set(self.enums)) - before)
        normalized = _normalized(file)
        self._canonical = _b64(normalized)
        _strip_confluent_meta(normalized)
        self._without_docs = _b64(normalized)

    def _index(self, prefix: str, messages: Iterable[MessageProto], enums: Iterable[EnumProto]) -> None:
        for enum in enums:
            self.enums[f"{prefix}.{enum.name}"] = enum
        for message in messages:
            full = f"{prefix}.{message.name}"
            self.messages[full] = message
            self._index(full, message.nested_type, message.enum_type)

    @property
    def package_prefix(self) -> str:
        return f".{self.file.package}" if self.file.package else ""

    def top_level_messages(self) -> list[tuple[str, MessageProto]]:
        """Full names and descriptors of the main file's top-level messages, in file order."""
        return [(f"{self.package_prefix}.{m.name}", m) for m in self.file.message_type]

    def canonical(self) -> str:
        return self._canonical

    def canonical_without_docs(self) -> str:
        return self._without_docs

    def formatted(self, fmt: str | None) -> str:
        """``serialized``: base64 FileDescriptorProto; otherwise .proto text (rendered if sent serialized)."""
        if fmt == "serialized":
            return base64.b64encode(self.file.SerializeToString(deterministic=True)).decode("ascii")
        if self._text is None:
            rendered = render_proto(self.file) if decode_serialized(self.raw) is not None else None
            self._text = rendered or self.raw
        return self._text

    def tagged_fields(self) -> list[TaggedField]:
        """Paths are relative to the first message (Confluent's default); other messages not reached from
        it are prefixed with their name."""
        return [TaggedField(path, field_tags(f)) for path, _, f in self._all_fields() if field_tags(f)]

    def field_keys(self) -> dict[str, tuple[str, ...]]:
        """Keys are field numbers (``#2.#1``): a renamed field keeps its number and its data."""
        return {path: (key,) for path, key, _ in self._all_fields()}

    def _all_fields(self) -> Iterator[tuple[str, str, FieldProto]]:
        reached: set[str] = set()
        for index, (name, message) in enumerate(self.top_level_messages()):
            if name in reached:
                continue
            prefix = "" if index == 0 else message.name
            yield from self._fields(message, prefix, prefix, frozenset({name}), reached)

    def _fields(
        self, message: MessageProto, prefix: str, key: str, seen: frozenset[str], reached: set[str]
    ) -> Iterator[tuple[str, str, FieldProto]]:
        """Each field (path, number key, descriptor) in order, nested messages after their field."""
        for field in message.field:
            path = f"{prefix}.{field.name}" if prefix else field.name
            number = f"{key}.#{field.number}" if key else f"#{field.number}"
            yield path, number, field
            target = self.messages.get(field.type_name) if field.type == TYPE_MESSAGE else None
            if target is not None and field.type_name not in seen:
                reached.add(field.type_name)
                yield from self._fields(target, path, number, seen | {field.type_name}, reached)


def field_tags(field: FieldProto) -> tuple[str, ...]:
    """The ``(confluent.field_meta).tags`` of a field."""
    if not field.HasField("options"):
        return ()
    tags: list[str] = []
    for meta in field_values(field.options.SerializeToString(), CONFLUENT_META_FIELD):
        for raw in field_values(meta, META_TAGS_FIELD):
            tags.append(raw.decode("utf-8", "replace"))
    return tuple(tags)


def parse_protobuf(text: str, references: Mapping[str, str] | None = None) -> ProtobufSchema:
    """Parse .proto text or a base64 FileDescriptorProto; ``import`` names resolve from ``references``."""
    refs = tuple(sorted((references or {}).items()))
    main_name, data = compile_schema(text, refs)
    try:
        files = list(descriptor_pb2.FileDescriptorSet.FromString(data).file)
    except DecodeError as exc:
        raise InvalidSchemaError(f"protoc produced an unreadable descriptor set: {exc}") from exc
    main = next((f for f in files if f.name == main_name), None)
    if main is None:
        raise InvalidSchemaError("the compiled schema is missing its main file")
    if not main.message_type:
        raise InvalidSchemaError("invalid Protobuf schema: it defines no message")
    return ProtobufSchema(text, main, [f for f in files if f is not main])


def default_json_name(name: str) -> str:
    """protoc's default JSON name: underscores dropped, the letter after each one upper-cased."""
    parts = name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


def _normalized(file: FileProto) -> FileProto:
    copy = FileProto()
    copy.CopyFrom(file)
    copy.ClearField("name")
    copy.ClearField("source_code_info")
    if copy.syntax == "proto2":
        copy.ClearField("syntax")
    for message in _all_messages(copy.message_type):
        for field in message.field:
            if field.json_name == default_json_name(field.name):
                field.ClearField("json_name")
    return copy


def _all_messages(messages: Iterable[MessageProto]) -> Iterator[MessageProto]:
    for message in messages:
        yield message
        yield from _all_messages(message.nested_type)


def _strip_confluent_meta(file: FileProto) -> None:
    holders: list[Any] = [file]  # descriptor protos that carry an ``options`` message
    for message in _all_messages(file.message_type):
        holders.append(message)
        holders.extend(message.field)
        holders.extend(message.enum_type)
        for enum in message.enum_type:
            holders.extend(enum.value)
    for enum in file.enum_type:
        holders.append(enum)
        holders.extend(enum.value)
    for holder in holders:
        if holder.HasField("options"):
            options = holder.options
            stripped = without_field(options.SerializeToString(), CONFLUENT_META_FIELD)
            options.Clear()
            options.MergeFromString(stripped)
            if not options.ListFields() and not stripped:
                holder.ClearField("options")


def _b64(message: Message) -> str:
    return base64.b64encode(message.SerializeToString(deterministic=True)).decode("ascii")
