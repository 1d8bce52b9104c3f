"""The component catalogue: one JSON Schema per component, shipped in ``oml/components/``.

Each schema validates a step's ``config``; its ``x-oml`` member says which modes the component supports,
which connection family it needs (if any), how many inputs it takes and which outputs it offers. Nothing
here knows how a component runs; that is :mod:`oml.runtime`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    name: str
    title: str
    description: str
    modes: tuple[str, ...]
    family: str | None
    inputs: int
    outputs: tuple[str, ...]
    schema: Mapping[str, Any]
    fingerprint: str  # SHA-256 of the schema's canonical JSON

    @property
    def validator(self) -> Draft202012Validator:
        return _validator(self.name)


def canonical_json(data: Any) -> bytes:
    """The one byte form hashed and written everywhere: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def load_components() -> Mapping[str, ComponentSpec]:
    """Every shipped component by name (read once per process)."""
    specs: dict[str, ComponentSpec] = {}
    for entry in sorted(resources.files("oml").joinpath("components").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        schema = json.loads(entry.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        name = entry.name.removesuffix(".json")
        meta = schema["x-oml"]
        specs[name] = ComponentSpec(
            name=name,
            title=schema["title"],
            description=schema["description"],
            modes=tuple(meta["modes"]),
            family=meta["family"],
            inputs=int(meta["inputs"]),
            outputs=tuple(meta["outputs"]),
            schema=schema,
            fingerprint=sha256(canonical_json(schema)),
        )
    return specs


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_components()[name].schema)


__all__ = ["ComponentSpec", "canonical_json", "load_components", "sha256"]
