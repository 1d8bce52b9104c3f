"""Parsed schemas of every supported type and the one entry point that parses them.

Pure apart from Protobuf text, which protoc compiles from a temporary directory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from registry.errors import InvalidSchemaError, UnknownSchemaTypeError
from registry.schemas.avro import AvroSchema, parse_avro
from registry.schemas.jsonschema import JsonSchema, parse_json_schema
from registry.schemas.model import ParsedSchema, SchemaType, TaggedField
from registry.schemas.protobuf import ProtobufSchema, parse_protobuf

logger = logging.getLogger(__name__)

_Parser = Callable[[str, Mapping[str, str] | None], ParsedSchema]


_PARSERS: dict[SchemaType, _Parser] = {
    SchemaType.AVRO: parse_avro,
    SchemaType.JSON: parse_json_schema,
    SchemaType.PROTOBUF: parse_protobuf,
}


def schema_type_of(value: SchemaType | str | None) -> SchemaType:
    """The schema type named by ``value`` (case-insensitive; ``None`` means AVRO, as in Confluent)."""
    if value is None:
        return SchemaType.AVRO
    try:
        return SchemaType(str(value).upper())
    except ValueError:
        known = ", ".join(t.value for t in SchemaType)
        raise UnknownSchemaTypeError(f"unknown schema type {value!r}; expected one of {known}") from None


def parse_schema(
    schema_type: SchemaType | str, text: str, references: Mapping[str, str] | None = None
) -> ParsedSchema:
    """Parse and validate ``text``; raises only InvalidSchemaError or UnknownSchemaTypeError on bad input."""
    kind = schema_type_of(schema_type)
    if not isinstance(text, str):
        raise InvalidSchemaError("schema must be a string")
    try:
        return _PARSERS[kind](text, references)
    except (InvalidSchemaError, UnknownSchemaTypeError):
        raise
    except RecursionError as exc:
        raise InvalidSchemaError(f"{kind.value} schema is nested too deeply") from exc
    except Exception as exc:  # a parser bug must still answer 422, not 500; logged to be fixed
        logger.warning("unexpected error parsing a %s schema", kind.value, exc_info=True)
        raise InvalidSchemaError(f"{kind.value} schema could not be parsed: {exc}") from exc


__all__ = [
    "AvroSchema",
    "JsonSchema",
    "ParsedSchema",
    "ProtobufSchema",
    "SchemaType",
    "TaggedField",
    "parse_schema",
    "schema_type_of",
]
