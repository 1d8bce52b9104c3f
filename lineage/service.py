"""The lineage service's use cases over its store: ingest events, answer the read API and graph queries.

Rules live elsewhere (validation in :mod:`lineage.validate`, mapping in :mod:`lineage.ingest`, traversal
in :mod:`lineage.graph`); this module wires them to SQL. Writes are serialised in-process so the HTTP
threads and the Kafka consumer never contend for SQLite's single writer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from lineage import graph
from lineage.errors import BadRequestError, InvalidEventError, LineageErrorCode, NotFoundError, Problem
from lineage.graph import Direction, Kind, Node, Subgraph
from lineage.ingest import EventRows, Key, map_event, normalize_time
from lineage.nodeid import parse_kind, splits
from lineage.storage import Transaction, reader
from lineage.storage.writer import WriteResult, write_events
from lineage.validate import validate_event

Json = dict[str, Any]
MAX_DEPTH = 100


def prepare(event: Any, where: str = "$") -> EventRows:
    """Validate and map one event; problems name their path under ``where`` (``$[3]`` in a batch)."""
    problems = validate_event(event)
    if problems:
        raise InvalidEventError(
            [Problem(where + p.path[1:], p.code, p.message) for p in problems] if where != "$" else problems
        )
    return map_event(event)


def parse_time(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    try:
        return normalize_time(text, what)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None


class LineageService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock = threading.Lock()

    # -- writes --------------------------------------------------------------------------------------
    def store(self, prepared: Sequence[EventRows]) -> WriteResult:
        with self._write_lock, Transaction(self.engine) as conn:
            return write_events(conn, prepared)

    def ingest(self, events: Sequence[Any], *, batch: bool = False) -> WriteResult:
        """Validate every event (all or nothing), then store the new ones."""
        prepared = [prepare(e, f"$[{i}]" if batch else "$") for i, e in enumerate(events)]
        return self.store(prepared)

    # -- reads ---------------------------------------------------------------------------------------
    def namespaces(self) -> list[Json]:
        with self.engine.connect() as conn:
            return reader.namespaces(conn)

    def namespace(self, name: str) -> Json:
        with self.engine.connect() as conn:
            found = reader.namespace(conn, name)
        if found is None:
            raise NotFoundError(f"namespace '{name}' not found")
        return found

    def datasets(self, ns: str, limit: int, offset: int) -> tuple[list[Json], int]:
        with self.engine.connect() as conn:
            return reader.list_datasets(conn, ns, limit, offset)

    def dataset(self, ns: str, name: str, as_of: str | None = None) -> Json:
        with self.engine.connect() as conn:
            rows = reader.dataset_rows(conn, [Key(ns, name)])
            if not rows:
                raise NotFoundError(f"dataset '{name}' not found in namespace '{ns}'")
            return reader.datasets_json(conn, rows, as_of)[0]

    def dataset_versions(self, ns: str, name: str, limit: int, offset: int) -> tuple[list[Json], int]:
        self.dataset(ns, name)
        with self.engine.connect() as conn:
            return reader.dataset_versions(conn, Key(ns, name), limit, offset)

    def jobs(self, ns: str, limit: int, offset: int) -> tuple[list[Json], int]:
        with self.engine.connect() as conn:
            return reader.list_jobs(conn, ns, limit, offset)

    def job(self, ns: str, name: str) -> Json:
        with self.engine.connect() as conn:
            rows = reader.job_rows(conn, [Key(ns, name)])
            if not rows:
                raise NotFoundError(f"job '{name}' not found in namespace '{ns}'")
            return reader.jobs_json(conn, rows)[0]

    def job_runs(self, ns: str, name: str, limit: int, offset: int) -> tuple[list[Json], int]:
        self.job(ns, name)
        with self.engine.connect() as conn:
            return reader.job_runs(conn, Key(ns, name), limit, offset)

    def run(self, run_id: str) -> Json:
        with self.engine.connect() as conn:
            found = reader.run(conn, run_id)
        if found is None:
            raise NotFoundError(f"run '{run_id}' not found")
        return found

    def events(self, limit: int, offset: int, ascending: bool) -> tuple[list[Json], int]:
        with self.engine.connect() as conn:
            return reader.events(conn, limit, offset, ascending)

    def event_count(self) -> int:
        with self.engine.connect() as conn:
            return reader.event_count(conn)

    def search(
        self, q: str, kind: str | None, tag: str | None, namespace: str | None, limit: int, sort: str
    ) -> list[Json]:
        with self.engine.connect() as conn:
            return reader.search(conn, q, kind, tag, namespace, limit, sort)

    # -- graph ---------------------------------------------------------------------------------------
    def resolve(self, node_id: str) -> Node:
        kind, rest = parse_kind(node_id)
        parts = 3 if kind is Kind.FIELD else 2
        candidates = splits(rest, parts)
        with self.engine.connect() as conn:
            table_kind = Kind.JOB if kind is Kind.JOB else Kind.DATASET
            known = set(reader.existing(conn, table_kind, [Key(c[0], c[1]) for c in candidates]))
        for candidate in candidates:
            if Key(candidate[0], candidate[1]) in known:
                return Node(kind, candidate[0], candidate[1], candidate[2] if kind is Kind.FIELD else None)
        raise NotFoundError(f"node '{node_id}' not found")

    def lineage(
        self,
        node_id: str | None,
        depth: int,
        *,
        tag: str | None = None,
        as_of: str | None = None,
        direction: Direction = Direction.BOTH,
    ) -> Json:
        """Marquez's ``{"graph": [...]}``: from ``node_id`` to ``depth``, or (with ``tag`` and no node) every
        tagged dataset and the paths between them; ``tag`` keeps only tagged nodes and paths between them."""
        if node_id is None and tag is None:
            raise BadRequestError("nodeId is required unless tag is given")
        with self.engine.connect() as conn:
            tagged = reader.tagged_datasets(conn, tag, as_of) if tag else set()
            start = (
                [self.resolve(node_id)] if node_id else [Node.dataset(k.namespace, k.name) for k in tagged]
            )
            if start and start[0].kind is Kind.FIELD:
                raise BadRequestError("a datasetField node id belongs to /api/v1/column-lineage")

            def neighbors(frontier: Any, way: Direction, when: str | None) -> Any:
                return reader.neighbors(conn, frontier, way, when)

            sub = graph.traverse(start, depth, neighbors, direction=direction, as_of=as_of)
            if tag:
                sub = graph.tagged_paths(sub, {Node.dataset(k.namespace, k.name) for k in tagged})
            return {"graph": self._graph_nodes(conn, sub, as_of)}

    def _graph_nodes(self, conn: Any, sub: Subgraph, as_of: str | None) -> list[Json]:
        dataset_keys = [n.key for n in sub.nodes if n.kind is Kind.DATASET]
        job_keys = [n.key for n in sub.nodes if n.kind is Kind.JOB]
        data: dict[Node, Json] = {}
        for shaped in reader.datasets_json(conn, reader.dataset_rows(conn, dataset_keys), as_of):
            data[Node.dataset(shaped["namespace"], shaped["name"])] = shaped
        for shaped in reader.jobs_json(conn, reader.job_rows(conn, job_keys)):
            data[Node.job(shaped["namespace"], shaped["name"])] = shaped
        ins, outs = sub.in_edges(), sub.out_edges()
        return [
            {
                "id": node.id,
                "type": node.kind.name,
                "data": data.get(node),
                "inEdges": [
                    {"origin": e.origin.id, "destination": e.destination.id} for e in ins.get(node, [])
                ],
                "outEdges": [
                    {"origin": e.origin.id, "destination": e.destination.id} for e in outs.get(node, [])
                ],
            }
            for node in sorted(sub.nodes)
        ]

    def column_lineage(
        self, node_id: str, depth: int, with_downstream: bool, as_of: str | None = None
    ) -> Json:
        """Marquez's column lineage: ``DATASET_FIELD`` nodes upstream (and downstream) of a node."""
        node = self.resolve(node_id)
        with self.engine.connect() as conn:
            if node.kind is Kind.JOB:
                raise BadRequestError("column lineage starts from a dataset or datasetField node id")
            start = [node] if node.kind is Kind.FIELD else reader.dataset_field_nodes(conn, node.key)

            def neighbors(frontier: Any, way: Direction, when: str | None) -> Any:
                return reader.column_edges(conn, frontier, way, when)

            way = Direction.BOTH if with_downstream else Direction.UPSTREAM
            sub = graph.traverse(start, depth, neighbors, direction=way, as_of=as_of)
            inputs = reader.column_rows(conn, sub.nodes)
            types = reader.field_types(conn, sorted({n.key for n in sub.nodes}))
            ins, outs = sub.in_edges(), sub.out_edges()
            nodes = []
            for field in sorted(sub.nodes):
                rows = inputs.get(field, [])
                first = _transformation(rows[0].transformation) if rows else {}
                nodes.append(
                    {
                        "id": field.id,
                        "type": "DATASET_FIELD",
                        "data": {
                            "namespace": field.namespace,
                            "dataset": field.name,
                            "datasetVersion": None,
                            "field": field.field,
                            "fieldType": types.get((field.key, field.field or "")),
                            "transformationDescription": first.get("description")
                            or first.get("transformationDescription"),
                            "transformationType": first.get("type") or first.get("transformationType"),
                            "inputFields": [
                                {
                                    "namespace": r.source_namespace,
                                    "dataset": r.source_name,
                                    "datasetVersion": None,
                                    "field": r.source_field,
                                    "transformation": _transformation(r.transformation) or None,
                                }
                                for r in rows
                            ],
                        },
                        "inEdges": [
                            {"origin": e.origin.id, "destination": e.destination.id}
                            for e in ins.get(field, [])
                        ],
                        "outEdges": [
                            {"origin": e.origin.id, "destination": e.destination.id}
                            for e in outs.get(field, [])
                        ],
                    }
                )
            return {"graph": nodes}

    def field_impact(self, node_id: str, as_of: str | None = None) -> Json:
        """Everything downstream of one field: derived fields (nearest first), their datasets, the jobs
        that write those datasets."""
        node = self.resolve(node_id)
        if node.kind is not Kind.FIELD:
            raise BadRequestError("field impact starts from a datasetField:NAMESPACE:NAME:FIELD node id")
        with self.engine.connect() as conn:

            def derived(frontier: Any) -> Any:
                return [
                    (e.origin, e.destination)
                    for e in reader.column_edges(conn, frontier, Direction.DOWNSTREAM, as_of)
                ]

            impacts = graph.field_impact(node, derived)
            datasets = sorted({Node.dataset(i.node.namespace, i.node.name) for i in impacts})
            writers = reader.neighbors(conn, datasets, Direction.UPSTREAM, as_of)
        return {
            "field": node.id,
            "impacted": [
                {
                    "nodeId": i.node.id,
                    "namespace": i.node.namespace,
                    "dataset": i.node.name,
                    "field": i.node.field,
                    "depth": i.depth,
                    "via": i.via.id,
                }
                for i in impacts
            ],
            "datasets": [d.id for d in datasets],
            "jobs": sorted({e.origin.id for e in writers}),
        }


def _transformation(text: str | None) -> Json:
    value = json.loads(text) if text else {}
    return value if isinstance(value, dict) else {}


__all__ = ["MAX_DEPTH", "LineageErrorCode", "LineageService", "parse_time", "prepare"]
