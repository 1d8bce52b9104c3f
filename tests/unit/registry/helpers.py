"""Builders for small schemas used across the registry's unit tests."""

from __future__ import annotations

import json
from typing import Any

from registry.schemas import ParsedSchema, SchemaType, parse_schema


def record(*fields: dict[str, Any], name: str = "User", **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "com.example", "fields": list(fields), **extra}


def field(name: str, typ: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": typ, **extra}


def avro(document: Any) -> ParsedSchema:
    return parse_schema(SchemaType.AVRO, json.dumps(document))


def avro_record(*fields: dict[str, Any], **extra: Any) -> ParsedSchema:
    return avro(record(*fields, **extra))


def json_schema(document: Any) -> ParsedSchema:
    return parse_schema(SchemaType.JSON, json.dumps(document))


def proto(text: str, references: dict[str, str] | None = None) -> ParsedSchema:
    return parse_schema(SchemaType.PROTOBUF, text, references)


def proto_message(body: str, *, extra: str = "") -> ParsedSchema:
    return proto(f'syntax = "proto3";\npackage com.example;\n{extra}\nmessage User {{\n{body}\n}}\n')
