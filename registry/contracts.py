"""Confluent data contracts on a schema: ``metadata`` (tags, properties, sensitive) and ``ruleSet``, kept as
canonical JSON text, and the metadata properties the registry itself reads (pure: no I/O).

``confluent:version`` in the properties pins a version: a registration carrying it matches only that
version, and a new version records its own number there. A configured ``compatibilityGroup`` names a
property; versions whose values of it differ are not compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

CONFLUENT_VERSION = "confluent:version"


def canonical(value: Mapping[str, Any] | None) -> str | None:
    """Canonical JSON of a metadata or ruleSet document; None for an absent or empty one."""
    if not value:
        return None
    cleaned = {k: v for k, v in value.items() if v not in (None, {}, [])}
    return json.dumps(cleaned, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if cleaned else None


def document(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def properties(metadata: str | None) -> dict[str, str]:
    found = (document(metadata) or {}).get("properties") or {}
    return {str(k): str(v) for k, v in found.items()}


def pinned_version(metadata: str | None) -> int | None:
    """The version ``confluent:version`` names, when it names one."""
    value = properties(metadata).get(CONFLUENT_VERSION)
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


def with_version(metadata: str | None, number: int) -> str | None:
    """``metadata`` with ``confluent:version`` set to ``number`` (only when it carries the property)."""
    if metadata is None or CONFLUENT_VERSION not in properties(metadata):
        return metadata
    value = document(metadata) or {}
    value["properties"] = {**value.get("properties", {}), CONFLUENT_VERSION: str(number)}
    return canonical(value)


def group_value(metadata: str | None, group: str) -> str | None:
    return properties(metadata).get(group)


def has_properties(metadata: str | None, wanted: Mapping[str, str]) -> bool:
    held = properties(metadata)
    return all(held.get(k) == v for k, v in wanted.items())


__all__ = [
    "CONFLUENT_VERSION",
    "canonical",
    "document",
    "group_value",
    "has_properties",
    "pinned_version",
    "properties",
    "with_version",
]
