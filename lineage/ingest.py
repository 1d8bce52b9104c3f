"""The ingest mapping, pure: one valid OpenLineage event -> the rows the store writes.

Nothing here touches a database. An event's identity is the SHA-256 of its canonical JSON, so the same
event delivered twice (HTTP retry, Kafka redelivery) maps to the same ``event_id`` and is stored once.
Policy tags come from the ``tags`` dataset facet (``key`` is the tag, ``field`` the field it is on) and
from each ``schema`` facet field's ``tags``; both are kept, with where they came from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lineage.errors import InvalidEventError, LineageErrorCode, Problem

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, slots=True, order=True)
class Key:
    """A namespaced name: a job or a dataset."""

    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class FieldRow:
    name: str
    type: str | None
    description: str | None
    position: int


@dataclass(frozen=True, slots=True)
class TagRow:
    """A tag on a dataset (``field`` None) or on one of its fields; ``origin`` is ``tags`` or ``schema``."""

    key: str
    field: str | None
    value: str | None
    source: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class ColumnEdge:
    """Output field ``field`` of ``dataset`` is computed from ``source_field`` of ``source``."""

    dataset: Key
    field: str
    source: Key
    source_field: str
    transformation: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DatasetRows:
    key: Key
    facets: dict[str, Any]
    fields: tuple[FieldRow, ...]
    tags: tuple[TagRow, ...]
    content_hash: str | None  # None: the event says nothing about the dataset's shape (no facets)


@dataclass(frozen=True, slots=True)
class EventRows:
    event_id: str
    event_time: str
    event_type: str | None
    payload: str
    run_id: str | None
    job: Key | None
    job_facets: dict[str, Any]
    run_facets: dict[str, Any]
    parent_run_id: str | None
    inputs: tuple[Key, ...]
    outputs: tuple[Key, ...]
    datasets: tuple[DatasetRows, ...]
    column_edges: tuple[ColumnEdge, ...]
    namespaces: frozenset[str] = field(default_factory=frozenset)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_id(event: Any) -> str:
    return hashlib.sha256(canonical_json(event).encode("utf-8")).hexdigest()


def normalize_time(text: str, what: str = "time") -> str:
    """An ISO-8601 time with offset -> sortable UTC text (``2026-11-01T10:00:00.000000Z``)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (ValueError, AttributeError):
        raise ValueError(f"{what} {text!r} is not an ISO-8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(TIME_FORMAT)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else (None if value is None else str(value))


def _fields(schema: dict[str, Any]) -> tuple[list[FieldRow], list[TagRow]]:
    """Flatten (nested names joined by '.') the schema facet's fields and the tags written on them."""
    rows: list[FieldRow] = []
    tags: list[TagRow] = []

    def walk(items: list[Any], prefix: str) -> None:
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            name = prefix + item["name"]
            rows.append(FieldRow(name, _text(item.get("type")), _text(item.get("description")), len(rows)))
            for tag in _list(item.get("tags")):
                if isinstance(tag, str):
                    tags.append(TagRow(tag, name, None, None, "schema"))
                elif isinstance(tag, dict) and isinstance(tag.get("key") or tag.get("name"), str):
                    key = tag.get("key") or tag["name"]
                    tags.append(
                        TagRow(key, name, _text(tag.get("value")), _text(tag.get("source")), "schema")
                    )
            walk(_list(item.get("fields")), name + ".")

    walk(_list(schema.get("fields")), "")
    return rows, tags


def _dataset_rows(entry: dict[str, Any]) -> DatasetRows:
    key = Key(entry["namespace"], entry["name"])
    facets = _dict(entry.get("facets"))
    fields, tags = _fields(_dict(facets.get("schema")))
    for tag in _list(_dict(facets.get("tags")).get("tags")):
        if isinstance(tag, dict) and isinstance(tag.get("key"), str):
            tags.append(
                TagRow(
                    tag["key"],
                    _text(tag.get("field")),
                    _text(tag.get("value")),
                    _text(tag.get("source")),
                    "tags",
                )
            )
    content = hashlib.sha256(canonical_json(facets).encode()).hexdigest() if facets else None
    return DatasetRows(key, facets, tuple(fields), tuple(tags), content)


def _column_edges(entry: dict[str, Any]) -> list[ColumnEdge]:
    target = Key(entry["namespace"], entry["name"])
    facet = _dict(_dict(entry.get("facets")).get("columnLineage"))
    edges: list[ColumnEdge] = []
    for out_field, spec in _dict(facet.get("fields")).items():
        spec = _dict(spec)
        legacy: dict[str, Any] | None = {
            k: spec[k] for k in ("transformationType", "transformationDescription") if k in spec
        } or None
        for source in _list(spec.get("inputFields")):
            if not isinstance(source, dict):
                continue
            transformations = _list(source.get("transformations"))
            first: dict[str, Any] | None = (
                transformations[0] if transformations and isinstance(transformations[0], dict) else None
            )
            edges.append(
                ColumnEdge(
                    target,
                    out_field,
                    Key(str(source["namespace"]), str(source["name"])),
                    str(source["field"]),
                    first or legacy,
                )
            )
    return edges


def map_event(event: dict[str, Any]) -> EventRows:
    """The rows for one event that :func:`lineage.validate.validate_event` found valid."""
    try:
        when = normalize_time(event["eventTime"], "eventTime")
    except ValueError as exc:
        raise InvalidEventError([Problem("$.eventTime", LineageErrorCode.INVALID_EVENT, str(exc))]) from None
    run = _dict(event.get("run"))
    job_entry = _dict(event.get("job"))
    job = Key(job_entry["namespace"], job_entry["name"]) if job_entry else None
    run_facets = _dict(run.get("facets"))
    parent = _dict(_dict(run_facets.get("parent")).get("run")).get("runId")
    entries = [_dict(e) for e in _list(event.get("inputs"))], [_dict(e) for e in _list(event.get("outputs"))]
    static = _dict(event.get("dataset"))
    datasets: dict[Key, DatasetRows] = {}
    for entry in [*entries[0], *entries[1], *([static] if static else [])]:
        rows = _dataset_rows(entry)
        if rows.key not in datasets or rows.content_hash is not None:
            datasets[rows.key] = rows
    column_edges = [edge for entry in entries[1] for edge in _column_edges(entry)]
    namespaces = {k.namespace for k in datasets} | ({job.namespace} if job else set())
    namespaces |= {e.source.namespace for e in column_edges}
    payload = canonical_json(event)
    return EventRows(
        event_id=hashlib.sha256(payload.encode("utf-8")).hexdigest(),  # = event_id(event)
        event_time=when,
        event_type=_text(event.get("eventType")),
        payload=payload,
        run_id=str(run["runId"]).lower() if run.get("runId") else None,
        job=job,
        job_facets=_dict(job_entry.get("facets")),
        run_facets=run_facets,
        parent_run_id=str(parent).lower() if isinstance(parent, str) else None,
        inputs=tuple(dict.fromkeys(Key(e["namespace"], e["name"]) for e in entries[0])),
        outputs=tuple(dict.fromkeys(Key(e["namespace"], e["name"]) for e in entries[1])),
        datasets=tuple(datasets.values()),
        column_edges=tuple(column_edges),
        namespaces=frozenset(namespaces),
    )


__all__ = [
    "TIME_FORMAT",
    "ColumnEdge",
    "DatasetRows",
    "EventRows",
    "FieldRow",
    "Key",
    "TagRow",
    "canonical_json",
    "event_id",
    "map_event",
    "normalize_time",
]
