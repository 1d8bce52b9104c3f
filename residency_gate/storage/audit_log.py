"""Audit-log and checkpoint rows, and records queued in the outbox: functions over the caller's Connection.

The caller (the service) serializes appends with one writer lock and one transaction; the primary key on
``seq`` is the last line of defence, so two writers can never fork the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from residency_gate.storage.tables import audit_records, checkpoints
from spine import outbox
from spine.headers import PRODUCER

Record = dict[str, Any]

PRODUCER_NAME = "residency-gate"


_APPEND_LOCK_KEY = 0x5245_5349_4445  # "RESIDE": one advisory lock for every gate sharing a PostgreSQL log


def lock_for_append(conn: Connection) -> None:
    """Serialize appenders across processes: a transaction-scoped advisory lock on PostgreSQL.

    SQLite needs nothing here: one process owns a home, and its writes are serialized by the file lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})


def head(conn: Connection) -> tuple[int, str | None]:
    """(number of records, hash of the last record or None for an empty log)."""
    row = conn.execute(
        sa.select(audit_records.c.seq, audit_records.c.hash).order_by(audit_records.c.seq.desc()).limit(1)
    ).first()
    if row is None:
        return 0, None
    return int(row.seq) + 1, str(row.hash)


def insert_records(conn: Connection, sealed: Sequence[tuple[Mapping[str, Any], str]]) -> None:
    """Store sealed records, each with its canonical JSON text (what was hashed, plus the hash)."""
    rows = [
        {
            "seq": int(record["seq"]),
            "hash": str(record["hash"]),
            "prev_hash": str(record["prev_hash"]),
            "kind": str(record.get("kind", "")),
            "decision_id": record.get("decision_id"),
            "time": str(record.get("time", "")),
            "record": text,
        }
        for record, text in sealed
    ]
    if rows:
        conn.execute(audit_records.insert(), rows)


def _rows(conn: Connection, query: sa.Select[Any]) -> list[Record]:
    return [json.loads(row.record) for row in conn.execute(query)]


def records_since(conn: Connection, since_seq: int = 0, limit: int | None = None) -> list[Record]:
    query = (
        sa.select(audit_records.c.record)
        .where(audit_records.c.seq >= since_seq)
        .order_by(audit_records.c.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return _rows(conn, query)


def records_between(
    conn: Connection, since: str | None, until: str | None, limit: int | None = None, since_seq: int = 0
) -> list[Record]:
    """Records with ``since <= time < until`` (ISO-8601 UTC strings in one format sort as time does)."""
    query = sa.select(audit_records.c.record).where(audit_records.c.seq >= since_seq)
    if since is not None:
        query = query.where(audit_records.c.time >= since)
    if until is not None:
        query = query.where(audit_records.c.time < until)
    query = query.order_by(audit_records.c.seq)
    if limit is not None:
        query = query.limit(limit)
    return _rows(conn, query)


def records_for_decision(conn: Connection, decision_id: str) -> list[Record]:
    query = (
        sa.select(audit_records.c.record)
        .where(audit_records.c.decision_id == decision_id)
        .order_by(audit_records.c.seq)
    )
    return _rows(conn, query)


def leaf_hashes(conn: Connection, upto: int | None = None) -> list[str]:
    query = sa.select(audit_records.c.hash).order_by(audit_records.c.seq)
    if upto is not None:
        query = query.where(audit_records.c.seq < upto)
    return [str(h) for h in conn.execute(query).scalars()]


def insert_checkpoint(conn: Connection, checkpoint: Mapping[str, Any]) -> None:
    conn.execute(
        checkpoints.insert().values(
            tree_size=int(checkpoint["tree_size"]),
            root_hash=str(checkpoint["root_hash"]),
            time=str(checkpoint["time"]),
            key_id=str(checkpoint["key_id"]),
            document=json.dumps(dict(checkpoint), sort_keys=True),
        )
    )


def list_checkpoints(conn: Connection) -> list[Record]:
    query = sa.select(checkpoints.c.document).order_by(checkpoints.c.tree_size)
    return [json.loads(text) for text in conn.execute(query).scalars()]


def last_checkpoint_size(conn: Connection) -> int:
    size = conn.execute(sa.select(sa.func.max(checkpoints.c.tree_size))).scalar()
    return int(size) if size is not None else 0


def enqueue(conn: Connection, topic: str, items: Iterable[tuple[str | None, str]]) -> None:
    """Queue ``(key, JSON text)`` records for ``topic`` in the outbox, inside the caller's transaction."""
    outbox.enqueue_many(
        conn,
        topic,
        [(key, value.encode("utf-8")) for key, value in items],
        headers=[(PRODUCER, PRODUCER_NAME)],
    )


def outbox_size(conn: Connection) -> int:
    return outbox.stats(conn).pending


__all__ = [
    "Record",
    "enqueue",
    "head",
    "insert_checkpoint",
    "insert_records",
    "last_checkpoint_size",
    "leaf_hashes",
    "list_checkpoints",
    "lock_for_append",
    "outbox_size",
    "records_between",
    "records_for_decision",
    "records_since",
]
