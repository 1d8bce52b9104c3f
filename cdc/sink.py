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
_CHUNK = 500  # actions per bulk statement (well below SQLite's bound-parameter limit)


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

    def resume_route(self, route: str) -> str | None:
        """Clear ``route``'s stop; the reason it was stopped, or None when it was not stopped."""
        t = self.route_states
        with Transaction(self.engine) as conn:
            if not sa.inspect(conn).has_table(t.name):
                return None
            reason = conn.execute(
                sa.select(t.c.reason).where(t.c.route == route, t.c.state == "stopped")
            ).scalar_one_or_none()
            if reason is not None:
                conn.execute(t.delete().where(t.c.route == route))
            return None if reason is None else str(reason)

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
            segment: list[Upsert | Delete] = []
            for action in actions:
                if isinstance(action, Truncate):
                    changed += self._apply_segment(conn, route, table, segment)
                    segment = []
                    changed += self._truncate(conn, route, table, action)
                else:
                    segment.append(action)
            changed += self._apply_segment(conn, route, table, segment)
            self._record_batch(
                conn, route, positions, changed,
                dead_lettered=dead_lettered, decision_ids=decision_ids, source_ts_ms=source_ts_ms,
            )  # fmt: skip
            if in_transaction is not None:
                in_transaction(conn)
        return changed

    def _record_batch(
        self,
        conn: Connection,
        route: Route,
        positions: Positions,
        changed: int,
        *,
        dead_lettered: int,
        decision_ids: Sequence[str],
        source_ts_ms: int | None,
    ) -> None:
        name = route.route_name
        p = self.positions
        for (topic, partition), offset in positions.items():
            conn.execute(p.delete().where(p.c.route == name, p.c.topic == topic, p.c.partition == partition))
            conn.execute(p.insert().values(route=name, topic=topic, partition=partition, next_offset=offset))
        conn.execute(
            self.batches.insert().values(
                route=name,
                positions=json.dumps({f"{t}:{p}": o for (t, p), o in positions.items()}),
                rows=changed,
                dead_lettered=dead_lettered,
                decision_ids=json.dumps(list(decision_ids)),
                source_ts_ms=source_ts_ms,
                committed_at_ms=int(time.time() * 1000),
            )
        )

    def _truncate(self, conn: Connection, route: Route, table: sa.Table | None, action: Truncate) -> int:
        name = route.route_name
        if action.lsn <= self._truncated_at(conn, route):
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

    def _truncated_at(self, conn: Connection, route: Route) -> int:
        t = self.truncates
        done = conn.execute(sa.select(t.c.lsn).where(t.c.route == route.route_name)).first()
        return -1 if done is None else int(done[0])

    def _apply_segment(
        self, conn: Connection, route: Route, table: sa.Table | None, actions: Sequence[Upsert | Delete]
    ) -> int:
        """Apply actions of distinct keys (``plan`` leaves one per key between truncates) with a few
        statements per chunk: read the chunk's stored LSNs, drop what is not newer, then write in bulk."""
        if not actions:
            return 0
        assert table is not None
        actions = list({a.key: a for a in actions}.values())  # the last per key, should plan leave two
        truncated = self._truncated_at(conn, route)
        changed = 0
        for start in range(0, len(actions), _CHUNK):
            chunk = actions[start : start + _CHUNK]
            texts = {a.key: _key_text(a.key) for a in chunk}
            stored = self._stored_lsns(conn, route, table, list(texts))
            tombs = self._tombstone_lsns(conn, route, list(texts.values()))
            newer = [
                a for a in chunk if a.lsn > max(stored.get(a.key, -1), tombs.get(texts[a.key], -1), truncated)
            ]  # fmt: skip
            upserts = [a for a in newer if isinstance(a, Upsert)]
            deletes = [a for a in newer if isinstance(a, Delete)]
            self._upsert(conn, route, table, upserts, [texts[a.key] for a in upserts])
            self._delete(conn, route, table, deletes, [texts[a.key] for a in deletes])
            changed += len(upserts) + sum(1 for a in deletes if a.key in stored)
        return changed

    def _stored_lsns(
        self, conn: Connection, route: Route, table: sa.Table, keys: Sequence[Key]
    ) -> dict[Key, int]:
        key_cols = _key_columns(route, table)
        rows = conn.execute(sa.select(*key_cols, table.c[LSN]).where(_keys_clause(key_cols, keys)))
        return {tuple(row[:-1]): int(row[-1]) for row in rows}

    def _tombstone_lsns(self, conn: Connection, route: Route, keys: Sequence[str]) -> dict[str, int]:
        t = self.tombstones
        rows = conn.execute(
            sa.select(t.c.key, t.c.lsn).where(t.c.route == route.route_name, t.c.key.in_(keys))
        )
        return {str(key): int(lsn) for key, lsn in rows}

    def _upsert(
        self, conn: Connection, route: Route, table: sa.Table, upserts: Sequence[Upsert], texts: Sequence[str]
    ) -> None:
        if not upserts:
            return
        key_cols = _key_columns(route, table)
        conn.execute(table.delete().where(_keys_clause(key_cols, [a.key for a in upserts])))
        names = [c for c in dict.fromkeys(k for a in upserts for k in a.row) if c in table.c]
        soft = route.delete == "soft_delete"
        params = []
        for a in upserts:
            values = {c: a.row.get(c) for c in names}
            values[LSN] = a.lsn
            if soft:
                values[DELETED] = False
            params.append(values)
        conn.execute(table.insert(), params)
        self._drop_tombstones(conn, route, texts)

    def _delete(
        self, conn: Connection, route: Route, table: sa.Table, deletes: Sequence[Delete], texts: Sequence[str]
    ) -> None:
        if not deletes:
            return
        key_cols = _key_columns(route, table)
        if route.delete == "soft_delete":
            where = sa.and_(*(col == sa.bindparam(f"_k{i}") for i, col in enumerate(key_cols)))
            statement = table.update().where(where).values({DELETED: True, LSN: sa.bindparam("_lsn")})
            params = [{"_lsn": a.lsn, **{f"_k{i}": v for i, v in enumerate(a.key)}} for a in deletes]
            conn.execute(statement, params)
            return
        conn.execute(table.delete().where(_keys_clause(key_cols, [a.key for a in deletes])))
        self._drop_tombstones(conn, route, texts)
        conn.execute(
            self.tombstones.insert(),
            [
                {"route": route.route_name, "key": text, "lsn": a.lsn}
                for text, a in zip(texts, deletes, strict=True)
            ],
        )

    def _drop_tombstones(self, conn: Connection, route: Route, keys: Sequence[str]) -> None:
        t = self.tombstones
        conn.execute(t.delete().where(t.c.route == route.route_name, t.c.key.in_(keys)))

    def close(self) -> None:
        self.engine.dispose()


def _key_columns(route: Route, table: sa.Table) -> list[sa.Column[Any]]:
    return [table.c[route.rename.get(col, col)] for col in route.key]


def _keys_clause(key_cols: Sequence[sa.Column[Any]], keys: Sequence[Key]) -> sa.ColumnElement[bool]:
    """Rows whose key is one of ``keys``."""
    if len(key_cols) == 1:
        return key_cols[0].in_([key[0] for key in keys])
    return sa.tuple_(*key_cols).in_(list(keys))


def _key_text(key: Key) -> str:
    if len(key) == 1 and type(key[0]) is int:  # the common key, as json.dumps would write it
        return f"[{key[0]}]"
    return json.dumps(list(key), default=str, separators=(",", ":"))


__all__ = ["DELETED", "LSN", "SqlSink", "column_type"]
