"""The SQL sink: rows, consumed positions and the batch record written in one transaction (SQLAlchemy).

SQLite (the embedded default) or PostgreSQL. Each routed table gets its key and data columns (typed from
Debezium's column types) plus ``_spine_lsn`` (the source position of the row's last change) and, for soft
deletes, ``_spine_deleted``. An action whose LSN is not newer than the key's (row, delete tombstone or the
route's last truncate) is ignored, so a redelivered event changes nothing. ``_spine_cdc_positions`` holds
the next Kafka offset per topic partition, ``_spine_cdc_batches`` one row per committed batch with its
residency decision ids: both in the same transaction as the rows, so a crash neither loses nor duplicates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cdc.plan import Action, Delete, Key, Truncate, Upsert
from cdc.routes import Route
from spine.outbox import outbox_table
from spine.sql import Transaction, create_engine

LSN = "_spine_lsn"
DELETED = "_spine_deleted"

_TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "int8": sa.SmallInteger,
    "int16": sa.SmallInteger,
    "int32": sa.Integer,
    "int64": sa.BigInteger,
    "float32": sa.Float,
    "float64": sa.Float,
    "boolean": sa.Boolean,
    "string": sa.Text,
    "bytes": sa.Text,
}


def column_type(connect_type: str | None) -> sa.types.TypeEngine[Any]:
    """The SQL type of a Debezium column; logical types keep their Connect representation."""
    if connect_type is None:
        return sa.Text()
    if connect_type.startswith("io.debezium.time.") or connect_type.startswith("org.apache.kafka"):
        return sa.BigInteger() if "Timestamp" in connect_type or "Time" in connect_type else sa.Text()
    return _TYPES.get(connect_type, sa.Text)()


Positions = Mapping[tuple[str, int], int]


class SqlSink:
    """One sink database; tables are created (and widened by added nullable columns) as events arrive."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.engine = create_engine(url, setting=f"sinks.{name}.url")
        self.meta = sa.MetaData()
        self.positions = sa.Table(
            "_spine_cdc_positions", self.meta,
            sa.Column("route", sa.String(200), primary_key=True),
            sa.Column("topic", sa.String(249), primary_key=True),
            sa.Column("partition", sa.Integer, primary_key=True),
            sa.Column("next_offset", sa.BigInteger, nullable=False),
        )  # fmt: skip
        self.batches = sa.Table(
            "_spine_cdc_batches", self.meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("route", sa.String(200), nullable=False, index=True),
            sa.Column("positions", sa.Text, nullable=False),
            sa.Column("rows", sa.Integer, nullable=False),
            sa.Column("dead_lettered", sa.Integer, nullable=False),
            sa.Column("decision_ids", sa.Text, nullable=False),
            sa.Column("source_ts_ms", sa.BigInteger),
            sa.Column("committed_at_ms", sa.BigInteger, nullable=False),
        )  # fmt: skip
        self.tombstones = sa.Table(
            "_spine_cdc_tombstones", self.meta,
            sa.Column("route", sa.String(200), primary_key=True),
            sa.Column("key", sa.String(1000), primary_key=True),
            sa.Column("lsn", sa.BigInteger, nullable=False),
        )  # fmt: skip
        self.truncates = sa.Table(
            "_spine_cdc_truncates", self.meta,
            sa.Column("route", sa.String(200), primary_key=True),
            sa.Column("lsn", sa.BigInteger, nullable=False),
        )  # fmt: skip
        self.route_states = sa.Table(
            "_spine_cdc_route_states", self.meta,
            sa.Column("route", sa.String(200), primary_key=True),
            sa.Column("state", sa.String(40), nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("changed_at_ms", sa.BigInteger, nullable=False),
        )  # fmt: skip
        outbox_table(self.meta)  # lineage of each batch, queued in the batch's own transaction
        self._tables: dict[str, sa.Table] = {}

    def start(self) -> None:
        """Create the bookkeeping tables; raises DatabaseUnavailableError when the sink is down."""
        with Transaction(self.engine) as conn:
            self.meta.create_all(conn)

    def stopped_routes(self) -> dict[str, str]:
        """Route -> reason, for every route this sink holds as stopped (a breaking schema change)."""
        t = self.route_states
        with Transaction(self.engine) as conn:
            if not sa.inspect(conn).has_table(t.name):
                return {}
            rows = conn.execute(sa.select(t.c.route, t.c.reason).where(t.c.state == "stopped"))
            return {str(route): str(reason) for route, reason in rows}

    def stop_route(self, route: str, reason: str, at_ms: int) -> None:
        """Record ``route`` as stopped; it stays stopped across restarts until the row is cleared."""
        t = self.route_states
        with Transaction(self.engine) as conn:
            conn.execute(t.delete().where(t.c.route == route))
            conn.execute(t.insert().values(route=route, state="stopped", reason=reason, changed_at_ms=at_ms))

    def stored_positions(self, route: str) -> dict[tuple[str, int], int]:
        with Transaction(self.engine) as conn:
            rows = conn.execute(
                sa.select(self.positions.c.topic, self.positions.c.partition, self.positions.c.next_offset)
                .where(self.positions.c.route == route)
            )  # fmt: skip
            return {(str(t), int(p)): int(o) for t, p, o in rows}

    def table(self, route: Route, columns: Mapping[str, str], sample: Mapping[str, Any]) -> sa.Table:
        """The route's sink table, created or given new nullable columns as the source gains them."""
        existing = self._tables.get(route.route_name)
        wanted = [c for c in sample if c not in {LSN, DELETED}]
        if existing is not None and all(c in existing.c for c in wanted):
            return existing
        source_of = {route.rename.get(k, k): k for k in columns}
        key_cols = [route.rename.get(k, k) for k in route.key]
        with Transaction(self.engine) as conn:
            inspector = sa.inspect(conn)
            if not inspector.has_table(route.target_table):
                cols = [
                    sa.Column(name, column_type(columns.get(source_of.get(name, name))),
                              primary_key=name in key_cols, nullable=name not in key_cols)
                    for name in dict.fromkeys([*key_cols, *wanted])
                ]  # fmt: skip
                cols.append(sa.Column(LSN, sa.BigInteger, nullable=False))
                if route.delete == "soft_delete":
                    cols.append(sa.Column(DELETED, sa.Boolean, nullable=False, default=False))
                table = sa.Table(route.target_table, sa.MetaData(), *cols)
                table.create(conn)
            else:
                have = {c["name"] for c in inspector.get_columns(route.target_table)}
                for name in wanted:
                    if name not in have:
                        sql_type = column_type(columns.get(source_of.get(name, name)))
                        ddl = sa.schema.CreateColumn(sa.Column(name, sql_type)).compile(dialect=conn.dialect)
                        conn.execute(sa.text(f'ALTER TABLE "{route.target_table}" ADD COLUMN {ddl}'))
            table = sa.Table(route.target_table, sa.MetaData(), autoload_with=conn)
        self._tables[route.route_name] = table
        return table

    def existing_table(self, route: Route) -> sa.Table | None:
        """The route's sink table if it was created already (a truncate needs no new one)."""
        if route.route_name in self._tables:
            return self._tables[route.route_name]
        with Transaction(self.engine) as conn:
            if not sa.inspect(conn).has_table(route.target_table):
                return None
            table = sa.Table(route.target_table, sa.MetaData(), autoload_with=conn)
        self._tables[route.route_name] = table
        return table

    def apply(
        self,
        route: Route,
        table: sa.Table | None,
        actions: Sequence[Action],
        positions: Positions,
        *,
        dead_lettered: int,
        decision_ids: Sequence[str],
        source_ts_ms: int | None,
        in_transaction: Callable[[Connection], None] | None = None,
    ) -> int:
        """Apply ``actions`` and record the batch and positions, all in one transaction; rows changed.
        ``in_transaction`` runs last inside it (the router queues the batch's lineage there)."""
        changed = 0
        with Transaction(self.engine) as conn:
            for action in actions:
                assert table is not None or isinstance(action, Truncate)
                changed += self._apply_one(conn, route, table, action)
            for (topic, partition), offset in positions.items():
                where = sa.and_(
                    self.positions.c.route == route.route_name,
                    self.positions.c.topic == topic,
                    self.positions.c.partition == partition,
                )
                conn.execute(self.positions.delete().where(where))
                conn.execute(
                    self.positions.insert().values(
                        route=route.route_name, topic=topic, partition=partition, next_offset=offset
                    )
                )
            conn.execute(
                self.batches.insert().values(
                    route=route.route_name,
                    positions=json.dumps({f"{t}:{p}": o for (t, p), o in positions.items()}),
                    rows=changed,
                    dead_lettered=dead_lettered,
                    decision_ids=json.dumps(list(decision_ids)),
                    source_ts_ms=source_ts_ms,
                    committed_at_ms=int(time.time() * 1000),
                )
            )
            if in_transaction is not None:
                in_transaction(conn)
        return changed

    def _newest(self, conn: Connection, route: Route, table: sa.Table, key: Key) -> int:
        lsns = [-1]
        row = conn.execute(sa.select(table.c[LSN]).where(_key_clause(route, table, key))).first()
        if row is not None:
            lsns.append(int(row[0]))
        tomb = conn.execute(
            sa.select(self.tombstones.c.lsn).where(
                self.tombstones.c.route == route.route_name, self.tombstones.c.key == _key_text(key)
            )
        ).first()
        if tomb is not None:
            lsns.append(int(tomb[0]))
        trunc = conn.execute(
            sa.select(self.truncates.c.lsn).where(self.truncates.c.route == route.route_name)
        ).first()
        if trunc is not None:
            lsns.append(int(trunc[0]))
        return max(lsns)

    def _apply_one(self, conn: Connection, route: Route, table: sa.Table | None, action: Action) -> int:
        name = route.route_name
        if isinstance(action, Truncate):
            done = conn.execute(sa.select(self.truncates.c.lsn).where(self.truncates.c.route == name)).first()
            if done is not None and int(done[0]) >= action.lsn:
                return 0
            count = 0
            if table is not None:
                if route.delete == "soft_delete":
                    count = conn.execute(table.update().values({DELETED: True, LSN: action.lsn})).rowcount
                else:
                    count = conn.execute(table.delete()).rowcount
            conn.execute(self.truncates.delete().where(self.truncates.c.route == name))
            conn.execute(self.truncates.insert().values(route=name, lsn=action.lsn))
            conn.execute(self.tombstones.delete().where(self.tombstones.c.route == name))
            return int(count)
        assert table is not None
        if action.lsn <= self._newest(conn, route, table, action.key):
            return 0  # redelivered or older than what the sink holds
        where = _key_clause(route, table, action.key)
        if isinstance(action, Upsert):
            values = {k: v for k, v in action.row.items() if k in table.c}
            values[LSN] = action.lsn
            if route.delete == "soft_delete":
                values[DELETED] = False
            conn.execute(table.delete().where(where))
            conn.execute(table.insert().values(values))
            conn.execute(
                self.tombstones.delete().where(
                    self.tombstones.c.route == name, self.tombstones.c.key == _key_text(action.key)
                )
            )
            return 1
        assert isinstance(action, Delete)
        if route.delete == "soft_delete":
            return int(
                conn.execute(table.update().where(where).values({DELETED: True, LSN: action.lsn})).rowcount
            )
        count = conn.execute(table.delete().where(where)).rowcount
        key_text = _key_text(action.key)
        conn.execute(
            self.tombstones.delete().where(self.tombstones.c.route == name, self.tombstones.c.key == key_text)
        )
        conn.execute(self.tombstones.insert().values(route=name, key=key_text, lsn=action.lsn))
        return int(count)

    def close(self) -> None:
        self.engine.dispose()


def _key_clause(route: Route, table: sa.Table, key: Key) -> sa.ColumnElement[bool]:
    return sa.and_(
        *(table.c[route.rename.get(col, col)] == value for col, value in zip(route.key, key, strict=True))
    )


def _key_text(key: Key) -> str:
    return json.dumps(list(key), default=str, separators=(",", ":"))


__all__ = ["DELETED", "LSN", "SqlSink", "column_type"]
