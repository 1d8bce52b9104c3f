"""Protobuf schemas (parsing lands in the next commit)."""

from __future__ import annotations

from collections.abc import Mapping

from registry.errors import InvalidSchemaError
from registry.schemas.model import ParsedSchema


def parse_protobuf(text: str, references: Mapping[str, str] | None = None) -> ParsedSchema:
    """Parse Protobuf text or a base64 FileDescriptorProto."""
    del text, references
    raise InvalidSchemaError("PROTOBUF schemas are not supported yet")
