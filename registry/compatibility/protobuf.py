"""Protobuf compatibility by wire rules (placeholder until the Protobuf model lands)."""

from __future__ import annotations

import logging

from registry.compatibility.model import Incompatibility
from registry.schemas.model import ParsedSchema

logger = logging.getLogger(__name__)


def can_read(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why ``reader`` cannot decode messages written with ``writer``."""
    del reader, writer
    return []


def evolution(old: ParsedSchema, new: ParsedSchema) -> list[Incompatibility]:
    """Rules that depend on which schema is older."""
    del old, new
    return []
