"""Read the lineage store into Marquez-shaped JSON (``/api/v1/...``) and feed graph traversal from SQL.

Functions take a Connection; they decide nothing about the graph (that is :mod:`lineage.graph`). Where a
time ``as_of`` is given, a dataset is shown as its newest version created at or before it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from lineage.graph import Direction, Edge, Kind, Node
from lineage.ingest import Key
from lineage.storage import tables as t
from lineage.storage.writer import CHUNK

Json = dict[str, Any]


def _facets(text: str | None) -> Json:
    return json.loads(text) if text else {}


def _pairs(column_a: Any, column_b: Any, keys: Sequence[Key]) -> Any:
    return sa.tuple_(column_a, column_b).in_([(k.namespace, k.name) for k in keys])


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# -- namespaces ----------------------------------------------------------------------------------------
def namespace_json(row: Any) -> Json:
    return {
        "name": row.name,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "ownerName": "anonymous",
        "description": None,
        "isHidden": False,
    }


def namespaces(conn: Connection) -> list[Json]:
    return [namespace_json(r) for r in conn.execute(sa.select(t.namespaces).order_by(t.namespaces.c.name))]


def namespace(conn: Connection, name: str) -> Json | None:
    row = conn.execute(sa.select(t.namespaces).where(t.namespaces.c.name == name)).first()
    return namespace_json(row) if row else None


# -- datasets ------------------------------------------------------------------------------------------
def version_at(conn: Connection, keys: Sequence[Key], as_of: str | None) -> dict[Key, str]:
    """Each dataset's version: the current one, or the newest created at or before ``as_of``."""
    out: dict[Key, str] = {}
    for chunk in _chunks(sorted(set(keys))):
        if as_of is None:
            query = sa.select(t.datasets.c.namespace, t.datasets.c.name, t.datasets.c.current_version).where(
                _pairs(t.datasets.c.namespace, t.datasets.c.name, chunk),
                t.datasets.c.current_version.is_not(None),
            )
            out.update({Key(a, b): v for a, b, v in conn.execute(query)})
            continue
        v = t.dataset_versions
        query = (
            sa.select(v.c.namespace, v.c.name, v.c.version, v.c.created_at)
            .where(_pairs(v.c.namespace, v.c.name, chunk), v.c.created_at <= as_of)
            .order_by(v.c.created_at)
        )
        for row in conn.execute(query):
            out[Key(row.namespace, row.name)] = row.version
    return out


def _version_details(conn: Connection, versions: Collection[str]) -> tuple[dict[str, Any], ...]:
    fields: dict[str, list[Any]] = defaultdict(list)
    tags: dict[str, list[Any]] = defaultdict(list)
    rows: dict[str, Any] = {}
    for chunk in _chunks(sorted(versions)):
        for row in conn.execute(sa.select(t.dataset_versions).where(t.dataset_versions.c.version.in_(chunk))):
            rows[row.version] = row
        query = sa.select(t.dataset_fields).where(t.dataset_fields.c.version.in_(chunk))
        for row in conn.execute(query.order_by(t.dataset_fields.c.position)):
            fields[row.version].append(row)
        query = sa.select(t.dataset_tags).where(t.dataset_tags.c.version.in_(chunk))
        for row in conn.execute(query.order_by(t.dataset_tags.c.id)):
            tags[row.version].append(row)
    return rows, fields, tags


def _tag_json(row: Any) -> Json:
    return {
        "key": row.tag,
        "field": row.field,
        "value": row.value,
        "source": row.source,
        "origin": row.origin,
    }


def _shape(row: Any, version: str | None, details: tuple[dict[str, Any], ...]) -> Json:
    versions, fields, tags = details
    facets = _facets(versions[version].facets) if version in versions else {}
    version_tags = tags.get(version or "", [])
    field_tags: dict[str, list[str]] = defaultdict(list)
    for tag in version_tags:
        if tag.field is not None and tag.tag not in field_tags[tag.field]:
            field_tags[tag.field].append(tag.tag)
    description = facets.get("documentation", {}).get("description") if facets else None
    return {
        "id": {"namespace": row.namespace, "name": row.name},
        "type": "DB_TABLE",
        "name": row.name,
        "physicalName": row.name,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "namespace": row.namespace,
        "sourceName": row.namespace,
        "fields": [
            {"name": f.name, "type": f.type, "tags": field_tags.get(f.name, []), "description": f.description}
            for f in fields.get(version or "", [])
        ],
        "tags": sorted({g.tag for g in version_tags if g.field is None}),
        "tagDetails": [_tag_json(g) for g in version_tags],
        "lastModifiedAt": row.last_modified_at,
        "lastLifecycleState": None,
        "description": description,
        "currentVersion": version,
        "columnLineage": None,
        "facets": facets,
        "deleted": False,
    }


def datasets_json(conn: Connection, rows: Sequence[Any], as_of: str | None = None) -> list[Json]:
    keys = [Key(r.namespace, r.name) for r in rows]
    versions = version_at(conn, keys, as_of)
    details = _version_details(conn, set(versions.values()))
    return [_shape(r, versions.get(Key(r.namespace, r.name)), details) for r in rows]


def dataset_rows(conn: Connection, keys: Sequence[Key]) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(sorted(set(keys))):
        out.extend(
            conn.execute(
                sa.select(t.datasets).where(_pairs(t.datasets.c.namespace, t.datasets.c.name, chunk))
            )
        )
    return out


def list_datasets(conn: Connection, ns: str, limit: int, offset: int) -> tuple[list[Json], int]:
    where = t.datasets.c.namespace == ns
    total = conn.execute(sa.select(sa.func.count()).select_from(t.datasets).where(where)).scalar_one()
    rows = conn.execute(
        sa.select(t.datasets).where(where).order_by(t.datasets.c.name).limit(limit).offset(offset)
    )
    return datasets_json(conn, list(rows)), total


def dataset_versions(conn: Connection, key: Key, limit: int, offset: int) -> tuple[list[Json], int]:
    v = t.dataset_versions
    where = sa.and_(v.c.namespace == key.namespace, v.c.name == key.name)
    total = conn.execute(sa.select(sa.func.count()).select_from(v).where(where)).scalar_one()
    versions = list(
        conn.execute(sa.select(v).where(where).order_by(v.c.created_at.desc()).limit(limit).offset(offset))
    )
    [row] = dataset_rows(conn, [key])
    details = _version_details(conn, [x.version for x in versions])
    out = []
    for version in versions:
        shaped = _shape(row, version.version, details)
        shaped["id"] = {"namespace": key.namespace, "name": key.name, "version": version.version}
        shaped["version"] = version.version
        shaped["createdAt"] = version.created_at
        shaped["createdByRun"] = {"id": version.run_id} if version.run_id else None
        out.append(shaped)
    return out, total


# -- jobs and runs -------------------------------------------------------------------------------------
def _run_json(row: Any, io: dict[str, list[Any]]) -> Json:
    facets = _facets(row.facets)
    nominal = facets.get("nominalTime", {}) if isinstance(facets.get("nominalTime"), dict) else {}
    duration = None
    if row.started_at and row.ended_at:
        from datetime import datetime

        from lineage.ingest import TIME_FORMAT

        start = datetime.strptime(row.started_at, TIME_FORMAT)
        end = datetime.strptime(row.ended_at, TIME_FORMAT)
        duration = int((end - start).total_seconds() * 1000)
    entries = io.get(row.run_id, [])

    def versions(direction: str) -> list[Json]:
        return [
            {"datasetVersionId": {"namespace": e.namespace, "name": e.name}, "facets": {}}
            for e in entries
            if e.direction == direction
        ]

    return {
        "id": row.run_id,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "nominalStartTime": nominal.get("nominalStartTime"),
        "nominalEndTime": nominal.get("nominalEndTime"),
        "state": row.state,
        "startedAt": row.started_at,
        "endedAt": row.ended_at,
        "durationMs": duration,
        "args": {},
        "jobVersion": {"namespace": row.job_namespace, "name": row.job_name, "version": None},
        "inputDatasetVersions": versions("in"),
        "outputDatasetVersions": versions("out"),
        "parentRunId": row.parent_run_id,
        "context": {},
        "facets": facets,
    }


def runs_json(conn: Connection, rows: Sequence[Any]) -> list[Json]:
    io: dict[str, list[Any]] = defaultdict(list)
    for chunk in _chunks([r.run_id for r in rows]):
        for entry in conn.execute(sa.select(t.run_io).where(t.run_io.c.run_id.in_(chunk))):
            io[entry.run_id].append(entry)
    return [_run_json(r, io) for r in rows]


def run(conn: Connection, run_id: str) -> Json | None:
    row = conn.execute(sa.select(t.runs).where(t.runs.c.run_id == run_id.lower())).first()
    return runs_json(conn, [row])[0] if row else None


def job_runs(conn: Connection, key: Key, limit: int, offset: int) -> tuple[list[Json], int]:
    where = sa.and_(t.runs.c.job_namespace == key.namespace, t.runs.c.job_name == key.name)
    total = conn.execute(sa.select(sa.func.count()).select_from(t.runs).where(where)).scalar_one()
    query = sa.select(t.runs).where(where).order_by(t.runs.c.created_at.desc()).limit(limit).offset(offset)
    return runs_json(conn, list(conn.execute(query))), total


def jobs_json(conn: Connection, rows: Sequence[Any]) -> list[Json]:
    keys = [Key(r.namespace, r.name) for r in rows]
    inputs: dict[Key, list[Json]] = defaultdict(list)
    outputs: dict[Key, list[Json]] = defaultdict(list)
    e = t.edges
    for chunk in _chunks(keys):
        down = sa.select(e).where(
            e.c.origin_kind == Kind.JOB.value, _pairs(e.c.origin_namespace, e.c.origin_name, chunk)
        )
        for edge in conn.execute(down):
            outputs[Key(edge.origin_namespace, edge.origin_name)].append(
                {"namespace": edge.destination_namespace, "name": edge.destination_name}
            )
        up = sa.select(e).where(
            e.c.destination_kind == Kind.JOB.value,
            _pairs(e.c.destination_namespace, e.c.destination_name, chunk),
        )
        for edge in conn.execute(up):
            inputs[Key(edge.destination_namespace, edge.destination_name)].append(
                {"namespace": edge.origin_namespace, "name": edge.origin_name}
            )
    latest_ids = [r.latest_run_id for r in rows if r.latest_run_id]
    latest: dict[str, Json] = {}
    for chunk in _chunks(latest_ids):
        found = list(conn.execute(sa.select(t.runs).where(t.runs.c.run_id.in_(chunk))))
        latest.update({r["id"]: r for r in runs_json(conn, found)})
    out = []
    for row, key in zip(rows, keys, strict=True):
        facets = _facets(row.facets)
        doc = facets.get("documentation")
        out.append(
            {
                "id": {"namespace": row.namespace, "name": row.name},
                "type": "BATCH",
                "name": row.name,
                "simpleName": row.name,
                "parentJobName": None,
                "createdAt": row.created_at,
                "updatedAt": row.updated_at,
                "namespace": row.namespace,
                "inputs": sorted(inputs[key], key=lambda d: (d["namespace"], d["name"])),
                "outputs": sorted(outputs[key], key=lambda d: (d["namespace"], d["name"])),
                "location": None,
                "description": doc.get("description") if isinstance(doc, dict) else None,
                "latestRun": latest.get(row.latest_run_id or ""),
                "facets": facets,
                "currentVersion": None,
            }
        )
    return out


def job_rows(conn: Connection, keys: Sequence[Key]) -> list[Any]:
    out: list[Any] = []
    for chunk in _chunks(sorted(set(keys))):
        out.extend(conn.execute(sa.select(t.jobs).where(_pairs(t.jobs.c.namespace, t.jobs.c.name, chunk))))
    return out


def list_jobs(conn: Connection, ns: str, limit: int, offset: int) -> tuple[list[Json], int]:
    where = t.jobs.c.namespace == ns
    total = conn.execute(sa.select(sa.func.count()).select_from(t.jobs).where(where)).scalar_one()
    rows = conn.execute(sa.select(t.jobs).where(where).order_by(t.jobs.c.name).limit(limit).offset(offset))
    return jobs_json(conn, list(rows)), total


# -- the graph -----------------------------------------------------------------------------------------
def existing(conn: Connection, kind: Kind, candidates: Sequence[Key]) -> list[Key]:
    table = t.jobs if kind is Kind.JOB else t.datasets
    if not candidates:
        return []
    query = sa.select(table.c.namespace, table.c.name).where(
        _pairs(table.c.namespace, table.c.name, candidates)
    )
    return [Key(a, b) for a, b in conn.execute(query)]


def neighbors(conn: Connection, frontier: Collection[Node], way: Direction, as_of: str | None) -> list[Edge]:
    """Every edge leaving (downstream) or entering (upstream) the frontier, in one query per kind."""
    e = t.edges
    side = "origin" if way is Direction.DOWNSTREAM else "destination"
    found: list[Edge] = []
    by_kind: dict[Kind, list[Key]] = defaultdict(list)
    for node in frontier:
        by_kind[node.kind].append(node.key)
    for kind, keys in by_kind.items():
        for chunk in _chunks(sorted(keys)):
            query = sa.select(e).where(
                e.c[f"{side}_kind"] == kind.value,
                _pairs(e.c[f"{side}_namespace"], e.c[f"{side}_name"], chunk),
            )
            if as_of is not None:
                query = query.where(e.c.since <= as_of)
            for row in conn.execute(query):
                found.append(
                    Edge(
                        Node(Kind(row.origin_kind), row.origin_namespace, row.origin_name),
                        Node(Kind(row.destination_kind), row.destination_namespace, row.destination_name),
                        row.since,
                    )
                )
    return found


def _tag_condition(tag: str) -> Any:
    escaped = tag.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sa.or_(t.dataset_tags.c.tag == tag, t.dataset_tags.c.tag.like(escaped + ".%", escape="\\"))


def tagged_datasets(conn: Connection, tag: str, as_of: str | None) -> set[Key]:
    """Datasets whose version (current, or as of a time) carries ``tag`` or one of its dotted children."""
    v = t.dataset_versions
    query = (
        sa.select(v.c.namespace, v.c.name, v.c.version)
        .join(t.dataset_tags, t.dataset_tags.c.version == v.c.version)
        .where(_tag_condition(tag))
        .distinct()
    )
    rows = [(Key(a, b), version) for a, b, version in conn.execute(query)]
    tagged_versions = {version for _, version in rows}
    current = version_at(conn, [k for k, _ in rows], as_of)
    return {k for k, version in current.items() if version in tagged_versions}


def column_edges(
    conn: Connection, frontier: Collection[Node], way: Direction, as_of: str | None
) -> list[Edge]:
    """Column lineage as edges ``source field -> derived field``."""
    c = t.column_lineage
    prefix = "source_" if way is Direction.DOWNSTREAM else ""
    found: list[Edge] = []
    items = sorted(frontier)
    for chunk in _chunks(items):
        query = sa.select(c).where(
            sa.tuple_(c.c[f"{prefix}namespace"], c.c[f"{prefix}name"], c.c[f"{prefix}field"]).in_(
                [(n.namespace, n.name, n.field or "") for n in chunk]
            )
        )
        if as_of is not None:
            query = query.where(c.c.since <= as_of)
        for row in conn.execute(query):
            found.append(
                Edge(
                    Node(Kind.FIELD, row.source_namespace, row.source_name, row.source_field),
                    Node(Kind.FIELD, row.namespace, row.name, row.field),
                    row.since,
                )
            )
    return found


def column_rows(conn: Connection, fields: Collection[Node]) -> dict[Node, list[Any]]:
    """The column-lineage rows deriving each field (its inputs)."""
    c = t.column_lineage
    out: dict[Node, list[Any]] = defaultdict(list)
    for chunk in _chunks(sorted(fields)):
        query = sa.select(c).where(
            sa.tuple_(c.c.namespace, c.c.name, c.c.field).in_(
                [(n.namespace, n.name, n.field or "") for n in chunk]
            )
        )
        for row in conn.execute(query):
            out[Node(Kind.FIELD, row.namespace, row.name, row.field)].append(row)
    return out


def field_types(conn: Connection, keys: Sequence[Key]) -> dict[tuple[Key, str], str | None]:
    versions = version_at(conn, keys, None)
    by_version = {v: k for k, v in versions.items()}
    out: dict[tuple[Key, str], str | None] = {}
    for chunk in _chunks(sorted(by_version)):
        for row in conn.execute(sa.select(t.dataset_fields).where(t.dataset_fields.c.version.in_(chunk))):
            out[(by_version[row.version], row.name)] = row.type
    return out


def dataset_field_nodes(conn: Connection, key: Key) -> list[Node]:
    c = t.column_lineage
    names: set[str] = set()
    for prefix in ("", "source_"):
        query = sa.select(c.c[f"{prefix}field"]).where(
            c.c[f"{prefix}namespace"] == key.namespace, c.c[f"{prefix}name"] == key.name
        )
        names |= set(conn.execute(query).scalars())
    return [Node(Kind.FIELD, key.namespace, key.name, n) for n in sorted(names)]


# -- search and events ---------------------------------------------------------------------------------
def search(
    conn: Connection,
    q: str,
    kind: str | None,
    tag: str | None,
    namespace_name: str | None,
    limit: int,
    sort: str,
) -> list[Json]:
    pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    results: list[Json] = []
    tagged = tagged_datasets(conn, tag, None) if tag else None
    for table, type_ in ((t.datasets, "DATASET"), (t.jobs, "JOB")):
        if kind not in (None, type_) or (tag and type_ == "JOB"):
            continue
        query = sa.select(table.c.namespace, table.c.name, table.c.updated_at).where(
            sa.func.lower(table.c.name).like(pattern, escape="\\")
        )
        if namespace_name:
            query = query.where(table.c.namespace == namespace_name)
        if tagged is not None:
            if not tagged:
                continue
            query = query.where(_pairs(table.c.namespace, table.c.name, sorted(tagged)))
        for ns, name, updated in conn.execute(query.limit(limit)):
            node = Node(Kind.DATASET if type_ == "DATASET" else Kind.JOB, ns, name)
            results.append(
                {"type": type_, "name": name, "updatedAt": updated, "namespace": ns, "nodeId": node.id}
            )
    key = (lambda r: r["updatedAt"]) if sort == "UPDATE_AT" else (lambda r: (r["name"], r["namespace"]))
    results.sort(key=key, reverse=sort == "UPDATE_AT")
    return results[:limit]


def events(conn: Connection, limit: int, offset: int, ascending: bool) -> tuple[list[Json], int]:
    total = conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar_one()
    order = t.events.c.id.asc() if ascending else t.events.c.id.desc()
    query = sa.select(t.events.c.payload).order_by(order).limit(limit).offset(offset)
    return [json.loads(p) for p in conn.execute(query).scalars()], total


def event_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar_one())
