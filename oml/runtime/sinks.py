"""Sinks of a running pipeline: a governed topic (through :class:`spine.governed.GovernedProducer`) and an
SQL table (an upsert by key, so a batch delivered twice after a crash leaves each record once).

Both buffer nothing of their own past :meth:`write`: the topic sink waits for every delivery in
:meth:`flush`, the table sink writes the batch in one transaction, and the runner commits offsets only after.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from oml.errors import OmlError
from oml.runtime.operators import Row
from spine.errors import ConfigError, UnavailableError
from spine.governed import GovernedProducer
from spine.kafka import DeliveryFuture
from spine.sql import Transaction, create_engine

logger = logging.getLogger(__name__)


class SinkError(OmlError, UnavailableError):
    """A sink could not make a batch durable; the batch's offsets are not committed."""


class TopicSink:
    def __init__(self, producer: GovernedProducer, key_column: str | None) -> None:
        self.producer = producer
        self._key = key_column
        self._pending: list[DeliveryFuture] = []
        self.written = 0

    def write(self, rows: Sequence[Row]) -> None:
        for row in rows:
            key = row.key if self._key is None else _key_bytes(row.value.get(self._key))
            future = self.producer.send(row.value, key)
            if future is not None:
                self._pending.append(future)

    def flush(self) -> None:
        self.producer.flush()
        failed = [f.exception(0) for f in self._pending]
        errors = [e for e in failed if e is not None]
        self.written += len(self._pending) - len(errors)
        self._pending.clear()
        if errors:
            raise SinkError(f"{len(errors)} record(s) not delivered to {self.producer.topic}: {errors[0]}")

    def close(self) -> None:
        self.producer.close()


def _key_bytes(value: Any) -> bytes | None:
    return None if value is None else str(value).encode()


def _column_type(value: Any) -> sa.types.TypeEngine[Any]:
    if isinstance(value, bool):
        return sa.Boolean()
    if isinstance(value, int):
        return sa.BigInteger()
    if isinstance(value, float):
        return sa.Float()
    if isinstance(value, str):
        return sa.Text()
    return sa.JSON()


class TableSink:
    """Upsert rows into ``table`` by ``key``; the table is created on the first batch (columns in the
    manifest's order, types from the first row) when it does not exist."""

    def __init__(
        self, url: str, table: str, key: Sequence[str], columns: Sequence[str], *, setting: str
    ) -> None:
        try:
            self.engine = create_engine(url, setting=setting)
        except OSError as exc:
            raise ConfigError(f"{setting}: cannot create the database's directory: {exc.strerror}") from exc
        self.table_name = table
        self.key = tuple(key)
        self.columns = tuple(columns)
        self._table: sa.Table | None = None
        self.written = 0

    def _ensure(self, sample: Mapping[str, Any]) -> sa.Table:
        if self._table is None:
            try:
                found = self._reflect()
                self._table = found if found is not None else self._create(sample)
            except SQLAlchemyError:
                # Another process of the pipeline may have created it between the check and the create.
                self._table = self._reflect()
                if self._table is None:
                    raise
        return self._table

    def _reflect(self) -> sa.Table | None:
        if not sa.inspect(self.engine).has_table(self.table_name):
            return None
        return sa.Table(self.table_name, sa.MetaData(), autoload_with=self.engine)

    def _create(self, sample: Mapping[str, Any]) -> sa.Table:
        cols = [sa.Column(c, _column_type(sample.get(c)), primary_key=c in self.key) for c in self.columns]
        table = sa.Table(self.table_name, sa.MetaData(), *cols)
        table.create(self.engine)
        return table

    def write(self, rows: Sequence[Row]) -> None:
        if not rows:
            return
        try:
            table = self._ensure(rows[0].value)
        except SQLAlchemyError as exc:
            cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise SinkError(
                f"table {self.table_name}: cannot read or create it: {type(exc).__name__}: {cause}"
            ) from exc
        by_key: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in rows:  # the last record of a key in the batch wins, as it would across batches
            values = {c: row.value.get(c) for c in self.columns if c in table.c}
            by_key[tuple(values.get(k) for k in self.key)] = values
        records = list(by_key.values())
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            stmt: Any = postgresql.insert(table)
        elif dialect == "sqlite":
            stmt = sqlite.insert(table)
        else:
            raise SinkError(f"table sink: database {dialect} has no upsert here (use PostgreSQL or SQLite)")
        update = {c: stmt.excluded[c] for c in records[0] if c not in self.key}
        stmt = (
            stmt.on_conflict_do_update(index_elements=list(self.key), set_=update)
            if update
            else (stmt.on_conflict_do_nothing(index_elements=list(self.key)))
        )
        with Transaction(self.engine) as conn:
            conn.execute(stmt, records)
        self.written += len(records)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["SinkError", "TableSink", "TopicSink"]
