"""Build OpenLineage events as plain JSON for the lineage tests."""

from __future__ import annotations

import uuid
from typing import Any

PRODUCER = "https://example.com/data-spine/tests"
CORE = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def facet(name: str, **fields: Any) -> dict[str, Any]:
    url = f"https://openlineage.io/spec/facets/1-0-0/{name}.json#/$defs/{name}"
    return {"_producer": PRODUCER, "_schemaURL": url, **fields}


def schema_facet(*fields: str | tuple[str, str, list[str]]) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for item in fields:
        if isinstance(item, str):
            out.append({"name": item, "type": "string"})
        else:
            name, kind, tags = item
            out.append({"name": name, "type": kind, "tags": [{"key": t, "value": "true"} for t in tags]})
    return facet("SchemaDatasetFacet", fields=out)


def tags_facet(*tags: tuple[str, str | None]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for key, field in tags:
        entry: dict[str, Any] = {"key": key, "value": "true", "source": "spine"}
        if field is not None:
            entry["field"] = field
        entries.append(entry)
    return facet("TagsDatasetFacet", tags=entries)


def dataset(namespace: str, name: str, **facets: Any) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": facets}


def run_event(
    job: str,
    *,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    event_type: str = "COMPLETE",
    run_id: str | None = None,
    time: str = "2026-11-01T10:00:00Z",
    namespace: str = "spine",
    run_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": CORE,
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": run_facets or {}},
        "job": {"namespace": namespace, "name": job, "facets": {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }
