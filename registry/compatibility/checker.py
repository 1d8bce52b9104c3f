"""The one place that maps compatibility levels to reader/writer checks, for every schema type.

BACKWARD: the new schema reads data written with existing ones. FORWARD: existing schemas read data
written with the new one. FULL: both. Non-transitive levels compare with the newest existing schema only.
Each schema type supplies only ``can_read(reader, writer)``. Rules that depend on which schema is older
(buf's "reserve what you remove") are lint rules, not compatibility: Confluent has none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from registry.compatibility import avro, jsonschema, protobuf
from registry.compatibility.model import CompatibilityLevel, CompatibilityResult, Incompatibility
from registry.schemas.model import ParsedSchema, SchemaType

logger = logging.getLogger(__name__)

ReadCheck = Callable[[ParsedSchema, ParsedSchema], list[Incompatibility]]

_CAN_READ: dict[SchemaType, ReadCheck] = {
    SchemaType.AVRO: avro.can_read,
    SchemaType.PROTOBUF: protobuf.can_read,
    SchemaType.JSON: jsonschema.can_read,
}


def can_read(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why ``reader`` cannot read data written with ``writer`` (empty when it can)."""
    if reader.schema_type != writer.schema_type:
        return [
            Incompatibility(
                "/",
                f"schema type changed from {writer.schema_type.value} to {reader.schema_type.value}",
                "schema-type-changed",
            )
        ]
    return _CAN_READ[reader.schema_type](reader, writer)


def check_compatibility(
    level: CompatibilityLevel | str, new: ParsedSchema, existing: Sequence[ParsedSchema]
) -> CompatibilityResult:
    """Check ``new`` against ``existing`` (oldest first) under ``level``."""
    level = CompatibilityLevel(level)
    if level is CompatibilityLevel.NONE or not existing:
        return CompatibilityResult()
    targets = list(existing) if level.transitive else [existing[-1]]
    found: list[Incompatibility] = []
    for old in targets:
        if level.backward:
            found.extend(can_read(new, old))
        if level.forward:
            found.extend(can_read(old, new))
    return CompatibilityResult(tuple(dict.fromkeys(found)))
