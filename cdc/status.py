"""``spine cdc status``: per route, what the sink's batch records, the DLQ and the replication slot say.

Lag is measured from commit timestamps (the source transaction's commit time to the sink transaction's),
never from Kafka offsets (which some brokers report wrongly).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from cdc.routes import RouteFile
from cdc.sink import SqlSink
from spine.errors import DatabaseUnavailableError
from spine.sql import Transaction

RECENT_BATCHES = 500


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0 < q <= 100), or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class RouteStatus:
    route: str
    state: str
    lag_p50_ms: float | None
    lag_p95_ms: float | None
    last_position: str | None
    rows_per_s: float | None
    batches: int
    dlq_depth: int | None
    last_decision: str | None
    slot_retained_wal_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(
    name: str, batches: Sequence[tuple[str, int, str, int | None, int]], slot_active: bool | None
) -> dict[str, Any]:
    """From recent batch rows (positions, rows, decision ids, source ts, committed at; newest last)."""
    lags = [float(c - s) for _, _, _, s, c in batches if s]
    span_s = (batches[-1][4] - batches[0][4]) / 1000 if len(batches) > 1 else 0.0
    rows = sum(r for _, r, _, _, _ in batches)
    last_ids = json.loads(batches[-1][2]) if batches else []
    state = "unknown" if slot_active is None else ("streaming" if slot_active else "source stopped")
    return {
        "route": name,
        "state": state,
        "lag_p50_ms": percentile(lags, 50),
        "lag_p95_ms": percentile(lags, 95),
        "last_position": batches[-1][0] if batches else None,
        "rows_per_s": round(rows / span_s, 1) if span_s > 0 else None,
        "batches": len(batches),
        "last_decision": last_ids[-1] if last_ids else None,
    }


def slot_info(routes: RouteFile) -> tuple[bool | None, int | None]:
    import psycopg

    conn = routes.source.connection()
    kwargs: dict[str, Any] = {
        k: v for k, v in conn.items() if k in {"host", "port", "user", "dbname", "password"}
    }
    try:
        with psycopg.connect(connect_timeout=5, **kwargs) as db:
            row = db.execute(
                "SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint "
                "FROM pg_replication_slots WHERE slot_name = %s",
                (routes.source.slot_name,),
            ).fetchone()
    except psycopg.Error:
        return None, None
    if row is None:
        return False, None
    return bool(row[0]), None if row[1] is None else int(row[1])


def route_statuses(routes: RouteFile, dlq_depths: dict[str, int | None]) -> list[RouteStatus]:
    active, retained = slot_info(routes)
    out: list[RouteStatus] = []
    sinks: dict[str, SqlSink] = {}
    try:
        for route in routes.routes:
            sink = sinks.get(route.sink) or SqlSink(
                route.sink, routes.sinks[route.sink].url.get_secret_value()
            )
            sinks[route.sink] = sink
            t = sink.batches
            try:
                with Transaction(sink.engine) as conn:
                    if not sa.inspect(conn).has_table(t.name):
                        rows: list[Any] = []
                    else:
                        rows = list(
                            conn.execute(
                                sa.select(t.c.positions, t.c.rows, t.c.decision_ids, t.c.source_ts_ms,
                                          t.c.committed_at_ms)
                                .where(t.c.route == route.route_name)
                                .order_by(t.c.id.desc())
                                .limit(RECENT_BATCHES)
                            )
                        )  # fmt: skip
            except DatabaseUnavailableError:
                rows = []
            summary = summarize(route.route_name, [tuple(r) for r in reversed(rows)], active)
            try:
                stopped = sink.stopped_routes().get(route.route_name)
            except DatabaseUnavailableError:
                stopped = None
            if stopped is not None:
                summary["state"] = stopped
            out.append(
                RouteStatus(
                    **summary,
                    dlq_depth=dlq_depths.get(route.route_name),
                    slot_retained_wal_bytes=retained,
                )
            )
    finally:
        for sink in sinks.values():
            sink.close()
    return out


__all__ = ["RouteStatus", "percentile", "route_statuses", "summarize"]
