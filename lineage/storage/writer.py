"""Write mapped events (:class:`lineage.ingest.EventRows`) to SQL, idempotently, one batch per transaction.

An event whose ``event_id`` is already stored is skipped whole, so a redelivered event changes nothing.
Rows that merge (runs through the state machine, dataset versions by content) are read, merged in Python
and written back; edges and column lineage widen their first/last-seen times with one upsert each.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from lineage.graph import Kind
from lineage.ingest import TIME_FORMAT, EventRows, Key, canonical_json
from lineage.runs import RunState, transition
from lineage.storage import tables as t

CHUNK = 400
_VERSION_NS = uuid.UUID("6f0c6c1e-8d7f-4c49-9a63-7b1f3c8e2d41")


@dataclass(frozen=True, slots=True)
class WriteResult:
    stored: int
    duplicates: int


def now() -> str:
    return datetime.now(UTC).strftime(TIME_FORMAT)


def _insert(conn: Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _later(table: sa.Table, stmt: Any, column: str) -> Any:
    return sa.case((stmt.excluded[column] > table.c[column], stmt.excluded[column]), else_=table.c[column])


def _earlier(table: sa.Table, stmt: Any, column: str) -> Any:
    return sa.case((stmt.excluded[column] < table.c[column], stmt.excluded[column]), else_=table.c[column])


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _by_keys(conn: Connection, table: sa.Table, keys: Iterable[Key]) -> dict[Key, sa.Row[Any]]:
    wanted = sorted(set(keys))
    found: dict[Key, sa.Row[Any]] = {}
    for chunk in _chunks(wanted):
        query = sa.select(table).where(
            sa.tuple_(table.c.namespace, table.c.name).in_([(k.namespace, k.name) for k in chunk])
        )
        for row in conn.execute(query):
            found[Key(row.namespace, row.name)] = row
    return found


def write_events(conn: Connection, batch: Sequence[EventRows]) -> WriteResult:
    """Store the events of ``batch`` not stored yet; returns how many were new and how many duplicates."""
    unique = list({rows.event_id: rows for rows in batch}.values())
    received = now()
    new_ids: set[str] = set()
    # One statement, executed with many parameter sets, so SQLAlchemy compiles it once and caches it
    # (its "insertmanyvalues" batches the rows and collects RETURNING); a multi-VALUES insert built per
    # chunk would be compiled afresh every time.
    stmt = (
        _insert(conn, t.events)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(t.events.c.event_id)
    )
    for chunk in _chunks(unique):
        params = [
            {
                "event_id": r.event_id,
                "event_time": r.event_time,
                "event_type": r.event_type,
                "run_id": r.run_id,
                "job_namespace": r.job.namespace if r.job else None,
                "job_name": r.job.name if r.job else None,
                "received_at": received,
                "payload": r.payload,
            }
            for r in chunk
        ]
        new_ids |= set(conn.execute(stmt, params).scalars())
    fresh = sorted((r for r in unique if r.event_id in new_ids), key=lambda r: r.event_time)
    if fresh:
        _namespaces(conn, fresh)
        _datasets(conn, fresh)
        _jobs_and_runs(conn, fresh)
        _edges(conn, fresh)
        _column_lineage(conn, fresh)
    return WriteResult(stored=len(fresh), duplicates=len(batch) - len(fresh))


def _namespaces(conn: Connection, batch: Sequence[EventRows]) -> None:
    times: dict[str, tuple[str, str]] = {}
    for rows in batch:
        for name in rows.namespaces:
            first, last = times.get(name, (rows.event_time, rows.event_time))
            times[name] = (min(first, rows.event_time), max(last, rows.event_time))
    stmt = _insert(conn, t.namespaces)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "created_at": _earlier(t.namespaces, stmt, "created_at"),
            "updated_at": _later(t.namespaces, stmt, "updated_at"),
        },
    )
    conn.execute(stmt, [{"name": n, "created_at": a, "updated_at": b} for n, (a, b) in sorted(times.items())])


def _datasets(conn: Connection, batch: Sequence[EventRows]) -> None:
    keys = {d.key for rows in batch for d in rows.datasets}
    state = {k: dict(row._mapping) for k, row in _by_keys(conn, t.datasets, keys).items()}
    versions: list[dict[str, Any]] = []
    fields: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    for rows in batch:
        outputs = set(rows.outputs)
        for entry in rows.datasets:
            current = state.setdefault(
                entry.key,
                {
                    "namespace": entry.key.namespace,
                    "name": entry.key.name,
                    "created_at": rows.event_time,
                    "updated_at": rows.event_time,
                    "current_version": None,
                    "current_hash": None,
                    "current_at": None,
                    "last_modified_at": None,
                },
            )
            current["created_at"] = min(current["created_at"], rows.event_time)
            current["updated_at"] = max(current["updated_at"], rows.event_time)
            if entry.key in outputs and rows.event_type in ("COMPLETE", None):
                current["last_modified_at"] = max(current["last_modified_at"] or "", rows.event_time)
            if entry.content_hash is None or entry.content_hash == current["current_hash"]:
                continue
            version = str(
                uuid.uuid5(_VERSION_NS, f"{rows.event_id}\n{entry.key.namespace}\n{entry.key.name}")
            )
            versions.append(
                {
                    "version": version,
                    "namespace": entry.key.namespace,
                    "name": entry.key.name,
                    "created_at": rows.event_time,
                    "run_id": rows.run_id,
                    "event_id": rows.event_id,
                    "content_hash": entry.content_hash,
                    "facets": canonical_json(entry.facets),
                }
            )
            fields.extend(
                {"version": version, "position": f.position, "name": f.name, "type": f.type,
                 "description": f.description}
                for f in entry.fields
            )  # fmt: skip
            tags.extend(
                {"version": version, "field": g.field, "tag": g.key, "value": g.value, "source": g.source,
                 "origin": g.origin}
                for g in entry.tags
            )  # fmt: skip
            if current["current_at"] is None or rows.event_time >= current["current_at"]:
                current.update(current_version=version, current_hash=entry.content_hash)
                current["current_at"] = rows.event_time
    for table, items in ((t.dataset_versions, versions), (t.dataset_fields, fields), (t.dataset_tags, tags)):
        if items:
            conn.execute(sa.insert(table), items)
    if state:
        stmt = _insert(conn, t.datasets)
        columns = [c.name for c in t.datasets.columns if c.name not in ("namespace", "name")]
        stmt = stmt.on_conflict_do_update(
            index_elements=["namespace", "name"], set_={c: stmt.excluded[c] for c in columns}
        )
        conn.execute(stmt, list(state.values()))


def _jobs_and_runs(conn: Connection, batch: Sequence[EventRows]) -> None:
    jobs = {k: dict(r._mapping) for k, r in _by_keys(conn, t.jobs, (r.job for r in batch if r.job)).items()}
    run_ids = sorted({r.run_id for r in batch if r.run_id and r.job})
    runs: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(run_ids):
        for row in conn.execute(sa.select(t.runs).where(t.runs.c.run_id.in_(chunk))):
            runs[row.run_id] = dict(row._mapping)
    io: set[tuple[str, str, str, str]] = set()
    for rows in batch:
        if rows.job is None:
            continue
        job = jobs.setdefault(
            rows.job,
            {
                "namespace": rows.job.namespace,
                "name": rows.job.name,
                "created_at": rows.event_time,
                "updated_at": rows.event_time,
                "facets": "{}",
                "latest_run_id": None,
                "latest_run_at": None,
            },
        )
        job["created_at"] = min(job["created_at"], rows.event_time)
        job["updated_at"] = max(job["updated_at"], rows.event_time)
        if rows.job_facets:
            job["facets"] = canonical_json({**json.loads(job["facets"]), **rows.job_facets})
        if rows.run_id is None:
            continue
        if job["latest_run_at"] is None or rows.event_time >= job["latest_run_at"]:
            job["latest_run_id"], job["latest_run_at"] = rows.run_id, rows.event_time
        run = runs.get(rows.run_id)
        if run is None:
            run = runs[rows.run_id] = {
                "run_id": rows.run_id,
                "job_namespace": rows.job.namespace,
                "job_name": rows.job.name,
                "state": None,
                "state_at": None,
                "created_at": rows.event_time,
                "updated_at": rows.event_time,
                "started_at": None,
                "ended_at": None,
                "parent_run_id": None,
                "facets": "{}",
            }
        current = RunState(run["state"]) if run["state"] else None
        state, state_at = transition(current, run["state_at"], rows.event_type, rows.event_time)
        run.update(state=state.value, state_at=state_at)
        run["created_at"] = min(run["created_at"], rows.event_time)
        run["updated_at"] = max(run["updated_at"], rows.event_time)
        if rows.event_type in ("START", "RUNNING"):
            run["started_at"] = min(run["started_at"] or rows.event_time, rows.event_time)
        if state.terminal and state_at is not None:
            run["ended_at"] = state_at
        run["parent_run_id"] = rows.parent_run_id or run["parent_run_id"]
        if rows.run_facets:
            run["facets"] = canonical_json({**json.loads(run["facets"]), **rows.run_facets})
        io |= {(rows.run_id, k.namespace, k.name, "in") for k in rows.inputs}
        io |= {(rows.run_id, k.namespace, k.name, "out") for k in rows.outputs}
    for table, keys, items in (
        (t.jobs, ["namespace", "name"], list(jobs.values())),
        (t.runs, ["run_id"], list(runs.values())),
    ):
        if items:
            stmt = _insert(conn, table)
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys},
            )
            conn.execute(stmt, items)
    if io:
        stmt = _insert(conn, t.run_io).on_conflict_do_nothing()
        conn.execute(
            stmt, [{"run_id": a, "namespace": b, "name": c, "direction": d} for a, b, c, d in sorted(io)]
        )


def _edges(conn: Connection, batch: Sequence[EventRows]) -> None:
    seen: dict[tuple[str, str, str, str, str, str], tuple[str, str]] = {}
    for rows in batch:
        if rows.job is None:
            continue
        job = (Kind.JOB.value, rows.job.namespace, rows.job.name)
        pairs = [((Kind.DATASET.value, k.namespace, k.name), job) for k in rows.inputs]
        pairs += [(job, (Kind.DATASET.value, k.namespace, k.name)) for k in rows.outputs]
        for origin, destination in pairs:
            key = (*origin, *destination)
            first, last = seen.get(key, (rows.event_time, rows.event_time))
            seen[key] = (min(first, rows.event_time), max(last, rows.event_time))
    if not seen:
        return
    names = [c.name for c in t.edges.primary_key.columns]
    stmt = _insert(conn, t.edges)
    stmt = stmt.on_conflict_do_update(
        index_elements=names,
        set_={"since": _earlier(t.edges, stmt, "since"), "last_seen": _later(t.edges, stmt, "last_seen")},
    )
    conn.execute(
        stmt,
        [
            {**dict(zip(names, key, strict=True)), "since": a, "last_seen": b}
            for key, (a, b) in sorted(seen.items())
        ],
    )


def _column_lineage(conn: Connection, batch: Sequence[EventRows]) -> None:
    seen: dict[tuple[str, ...], dict[str, Any]] = {}
    for rows in batch:
        for edge in rows.column_edges:
            key = (edge.dataset.namespace, edge.dataset.name, edge.field, edge.source.namespace,
                   edge.source.name, edge.source_field)  # fmt: skip
            row = seen.get(key)
            if row is None:
                names = [c.name for c in t.column_lineage.primary_key.columns]
                row = seen[key] = {**dict(zip(names, key, strict=True)), "since": rows.event_time}
            row["last_seen"] = rows.event_time
            row["transformation"] = canonical_json(edge.transformation) if edge.transformation else None
    if not seen:
        return
    stmt = _insert(conn, t.column_lineage)
    stmt = stmt.on_conflict_do_update(
        index_elements=[c.name for c in t.column_lineage.primary_key.columns],
        set_={
            "since": _earlier(t.column_lineage, stmt, "since"),
            "last_seen": _later(t.column_lineage, stmt, "last_seen"),
            "transformation": stmt.excluded.transformation,
        },
    )
    conn.execute(stmt, list(seen.values()))


__all__ = ["WriteResult", "now", "write_events"]
