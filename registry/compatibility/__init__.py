"""Schema compatibility: levels, results and the checker; per-type rules live in avro, protobuf, jsonschema.

Pure functions over parsed schemas; no storage, no HTTP.
"""

from __future__ import annotations

from registry.compatibility.checker import can_read, check_compatibility
from registry.compatibility.model import CompatibilityLevel, CompatibilityResult, Incompatibility

__all__ = [
    "CompatibilityLevel",
    "CompatibilityResult",
    "Incompatibility",
    "can_read",
    "check_compatibility",
]
