"""Render a FileDescriptorProto back to .proto text, so schemas registered as serialized descriptors can be
shown (and re-registered) as source. Type names are written fully qualified (``.pkg.Type``), which protoc
accepts, so no name resolution is needed. Editions files are not rendered (None).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from google.protobuf import descriptor_pb2

from registry.schemas.wire import field_values

logger = logging.getLogger(__name__)

Field = descriptor_pb2.FieldDescriptorProto
CONFLUENT_META_FIELD = 1088
_META_DOC, _META_TAGS = 1, 3
_INDENT = "  "


def render_proto(file: descriptor_pb2.FileDescriptorProto) -> str | None:
    """The .proto source of ``file``; None for editions files, which this renderer does not cover."""
    syntax = file.syntax or "proto2"
    if syntax not in ("proto2", "proto3"):
        return None
    lines = [f'syntax = "{syntax}";']
    if file.package:
        lines += ["", f"package {file.package};"]
    if file.dependency:
        lines.append("")
        for index, dependency in enumerate(file.dependency):
            kind = (
                "public "
                if index in file.public_dependency
                else "weak "
                if index in file.weak_dependency
                else ""
            )
            lines.append(f"import {kind}{_quote(dependency)};")
    options = list(_options(file.options)) if file.HasField("options") else []
    if options:
        lines.append("")
        lines += [f"option {name} = {value};" for name, value in options]
    renderer = _Renderer(syntax)
    for message in file.message_type:
        lines += ["", *renderer.message(message, 0)]
    for enum in file.enum_type:
        lines += ["", *renderer.enum(enum, 0)]
    lines += renderer.extensions(list(file.extension), 0)
    for service in file.service:
        lines += ["", f"service {service.name} {{"]
        for method in service.method:
            client = "stream " if method.client_streaming else ""
            server = "stream " if method.server_streaming else ""
            signature = f"({client}{method.input_type}) returns ({server}{method.output_type})"
            lines.append(f"{_INDENT}rpc {method.name}{signature};")
        lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _literal(field: Any, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bytes):
        return _quote(value.decode("latin-1"))
    if field.enum_type is not None:
        return str(field.enum_type.values_by_number[value].name)
    return str(value)


def _options(options: Any) -> Iterator[tuple[str, str]]:
    """Scalar standard options as ``(name, literal)``; message-valued and extension options are skipped."""
    for field, value in options.ListFields():
        if field.is_extension or field.message_type is not None or field.is_repeated:
            continue
        yield field.name, _literal(field, value)


def _meta_option(options: Any) -> str | None:
    tags: list[str] = []
    docs: list[str] = []
    for meta in field_values(options.SerializeToString(), CONFLUENT_META_FIELD):
        docs += [raw.decode("utf-8", "replace") for raw in field_values(meta, _META_DOC)]
        tags += [raw.decode("utf-8", "replace") for raw in field_values(meta, _META_TAGS)]
    if not tags and not docs:
        return None
    parts = [f"doc: {_quote(doc)}" for doc in docs] + [f"tags: {_quote(tag)}" for tag in tags]
    return "(confluent.field_meta) = { " + " ".join(parts) + " }"


class _Renderer:
    def __init__(self, syntax: str) -> None:
        self.syntax = syntax

    def message(self, message: descriptor_pb2.DescriptorProto, depth: int) -> list[str]:
        pad = _INDENT * depth
        inner = _INDENT * (depth + 1)
        lines = [f"{pad}message {message.name} {{"]
        if message.HasField("options"):
            lines += [f"{inner}option {name} = {value};" for name, value in _options(message.options)]
        entries = {nested.name: nested for nested in message.nested_type if nested.options.map_entry}
        for nested in message.nested_type:
            if nested.name not in entries:
                lines += self.message(nested, depth + 1)
        for enum in message.enum_type:
            lines += self.enum(enum, depth + 1)
        written: set[int] = set()
        for field in message.field:
            if not field.HasField("oneof_index") or field.proto3_optional:
                lines.append(f"{inner}{self.field(field, entries, message)}")
            elif field.oneof_index not in written:
                written.add(field.oneof_index)
                lines.append(f"{inner}oneof {message.oneof_decl[field.oneof_index].name} {{")
                lines += [
                    f"{inner}{_INDENT}{self.field(member, entries, message)}"
                    for member in message.field
                    if member.HasField("oneof_index") and member.oneof_index == field.oneof_index
                ]
                lines.append(f"{inner}}}")
        for r in message.extension_range:
            lines.append(f"{inner}extensions {r.start} to {'max' if r.end >= 536870912 else r.end - 1};")
        lines += self.extensions(list(message.extension), depth + 1)
        ranges = [
            f"{r.start}" if r.end - r.start == 1 else f"{r.start} to {r.end - 1}"
            for r in message.reserved_range
        ]
        if ranges:
            lines.append(f"{inner}reserved {', '.join(ranges)};")
        if message.reserved_name:
            lines.append(f"{inner}reserved {', '.join(_quote(n) for n in message.reserved_name)};")
        lines.append(f"{pad}}}")
        return lines

    def field(
        self,
        field: descriptor_pb2.FieldDescriptorProto,
        entries: dict[str, descriptor_pb2.DescriptorProto],
        message: descriptor_pb2.DescriptorProto | None,
    ) -> str:
        entry = entries.get(field.type_name.rpartition(".")[2]) if field.type == Field.TYPE_MESSAGE else None
        if entry is not None and field.label == Field.LABEL_REPEATED and message is not None:
            key, value = entry.field[0], entry.field[1]
            declared = f"map<{_type(key)}, {_type(value)}>"
        else:
            declared = f"{self._label(field)}{_type(field)}"
        options = []
        if field.HasField("default_value"):
            default = field.default_value
            if field.type == Field.TYPE_BYTES:
                default = f'"{default}"'  # descriptors keep bytes defaults C-escaped already
            elif field.type == Field.TYPE_STRING:
                default = _quote(default)
            options.append(f"default = {default}")
        if field.json_name and field.json_name != _default_json_name(field.name):
            options.append(f"json_name = {_quote(field.json_name)}")
        if field.HasField("options"):
            options += [f"{name} = {value}" for name, value in _options(field.options)]
            meta = _meta_option(field.options)
            if meta:
                options.append(meta)
        suffix = f" [{', '.join(options)}]" if options else ""
        return f"{declared} {field.name} = {field.number}{suffix};"

    def _label(self, field: descriptor_pb2.FieldDescriptorProto) -> str:
        if field.label == Field.LABEL_REPEATED:
            return "repeated "
        if field.label == Field.LABEL_REQUIRED:
            return "required "
        if self.syntax == "proto2":
            return "" if field.HasField("oneof_index") else "optional "
        return "optional " if field.proto3_optional else ""

    def enum(self, enum: descriptor_pb2.EnumDescriptorProto, depth: int) -> list[str]:
        pad, inner = _INDENT * depth, _INDENT * (depth + 1)
        lines = [f"{pad}enum {enum.name} {{"]
        if enum.HasField("options"):
            lines += [f"{inner}option {name} = {value};" for name, value in _options(enum.options)]
        lines += [f"{inner}{value.name} = {value.number};" for value in enum.value]
        ranges = [f"{r.start}" if r.start == r.end else f"{r.start} to {r.end}" for r in enum.reserved_range]
        if ranges:
            lines.append(f"{inner}reserved {', '.join(ranges)};")
        if enum.reserved_name:
            lines.append(f"{inner}reserved {', '.join(_quote(n) for n in enum.reserved_name)};")
        lines.append(f"{pad}}}")
        return lines

    def extensions(self, fields: list[descriptor_pb2.FieldDescriptorProto], depth: int) -> list[str]:
        pad = _INDENT * depth
        by_extendee: dict[str, list[descriptor_pb2.FieldDescriptorProto]] = {}
        for field in fields:
            by_extendee.setdefault(field.extendee, []).append(field)
        lines: list[str] = []
        for extendee, members in by_extendee.items():
            lines += ["", f"{pad}extend {extendee} {{"]
            lines += [f"{pad}{_INDENT}{self.field(field, {}, None)}" for field in members]
            lines.append(f"{pad}}}")
        return lines


def _type(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in (Field.TYPE_MESSAGE, Field.TYPE_ENUM, Field.TYPE_GROUP):
        return field.type_name
    return Field.Type.Name(field.type).removeprefix("TYPE_").lower()


def _default_json_name(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])
