"""Validate emitted events against the OpenLineage spec shipped in ``lineage/spec`` and the spine's own facet
schemas shipped in ``schemas/lineage``.

The whole event is checked against ``OpenLineage.json``; then every facet found in it is checked against the
schema its ``_schemaURL`` names, which must be one the repository ships (standard or the spine's own).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
SHIPPED_DIRS = (("lineage", "spec"), ("lineage", "spec/facets"), ("schemas", "lineage"))


@functools.cache
def shipped_schemas() -> dict[str, Any]:
    """Every JSON Schema the repository ships for lineage, by ``$id``."""
    found: dict[str, Any] = {}
    for package, folder in SHIPPED_DIRS:
        for item in files(package).joinpath(folder).iterdir():
            if item.name.endswith(".json"):
                document = json.loads(item.read_text(encoding="utf-8"))
                found[document["$id"]] = document
    return found


@functools.cache
def registry() -> Registry[Any]:
    resources = [(uri, Resource.from_contents(doc, DRAFT202012)) for uri, doc in shipped_schemas().items()]
    return Registry().with_resources(resources)


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": ref}, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def facets_of(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, facet)`` for every facet of the event's run, job and datasets."""
    for part in ("run", "job", "dataset"):
        for name, facet in (event.get(part) or {}).get("facets", {}).items():
            yield f"{part}.{name}", facet
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for index, dataset in enumerate(event.get(side) or []):
            for group in ("facets", extra):
                for name, facet in (dataset.get(group) or {}).items():
                    yield f"{side}[{index}].{group}.{name}", facet


def validate_event(event: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` (or AssertionError) unless ``event`` and each facet is valid."""
    kind = "RunEvent" if "run" in event else "DatasetEvent" if "dataset" in event else "JobEvent"
    _validator(f"{EVENT_SCHEMA}#/$defs/{kind}").validate(event)
    for where, facet in facets_of(event):
        url = facet.get("_schemaURL", "")
        document = url.split("#", 1)[0]
        assert document in shipped_schemas(), f"{where}: no shipped schema for {url!r}"
        _validator(url).validate(facet)


__all__ = ["facets_of", "shipped_schemas", "validate_event"]
