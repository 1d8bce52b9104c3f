"""JSON Schema compatibility (placeholder until its rules land)."""

from __future__ import annotations

import logging

from registry.compatibility.model import Incompatibility
from registry.schemas.model import ParsedSchema

logger = logging.getLogger(__name__)


def can_read(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why ``reader`` cannot decode messages written with ``writer``."""
    del reader, writer
    return []
