"""The outbox table and the statements over it, run on a connection whose transaction the caller owns.

Every service adds :func:`outbox_table` to its own metadata (and creates it in its own migrations); the
statements here use :data:`OUTBOX`, a table of the same name and shape, so they run against any of them.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

TABLE_NAME = "spine_outbox"

Header = tuple[str, bytes | None]

_AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """The outbox table in ``metadata``: one row per record waiting for the broker's acknowledgement."""
    return sa.Table(
        TABLE_NAME,
        metadata,
        sa.Column("id", _AutoId, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False, index=True),
    )


def create_table_v1(op: Any) -> None:
    """Create the table in its first shape from a service's Alembic migration (``op`` is ``alembic.op``).

    Frozen with the migrations that call it: a later shape is a new function and a new migration."""
    op.create_table(
        TABLE_NAME,
        sa.Column("id", _AutoId, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index(f"ix_{TABLE_NAME}_created_ms", TABLE_NAME, ["created_ms"])


OUTBOX = outbox_table(sa.MetaData())
_INSERT = OUTBOX.insert()


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    topic: str
    key: bytes | None
    value: bytes
    headers: list[Header]
    created_ms: int


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """How many rows wait and when the oldest was written (epoch milliseconds, None when empty)."""

    pending: int
    oldest_created_ms: int | None

    def oldest_age_s(self, now_ms: int | None = None) -> float:
        if self.oldest_created_ms is None:
            return 0.0
        now = now_ms if now_ms is not None else now_millis()
        return max(0.0, (now - self.oldest_created_ms) / 1000.0)

    def degraded(self, threshold_s: float, now_ms: int | None = None) -> bool:
        return self.pending > 0 and self.oldest_age_s(now_ms) > threshold_s


def now_millis() -> int:
    return time.time_ns() // 1_000_000


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode("utf-8") if isinstance(value, str) else value


def encode_headers(headers: Sequence[tuple[str, bytes | str | None]]) -> str | None:
    """Headers as JSON text: ``[[name, base64 value or null], ...]``; None when there are none."""
    if not headers:
        return None
    items = []
    for name, value in headers:
        raw = _as_bytes(value)
        items.append([name, None if raw is None else base64.b64encode(raw).decode("ascii")])
    return json.dumps(items)


def decode_headers(text: str | None) -> list[Header]:
    if not text:
        return []
    return [(str(name), None if v is None else base64.b64decode(v)) for name, v in json.loads(text)]


def enqueue(
    conn: Connection,
    topic: str,
    key: bytes | str | None,
    value: bytes,
    *,
    headers: Sequence[tuple[str, bytes | str | None]] = (),
) -> None:
    """Queue one record for ``topic`` inside the caller's transaction; it is sent once that commits."""
    enqueue_many(conn, topic, [(key, value)], headers=headers)


def enqueue_many(
    conn: Connection,
    topic: str,
    items: Sequence[tuple[bytes | str | None, bytes]],
    *,
    headers: Sequence[tuple[str, bytes | str | None]] = (),
) -> None:
    """Queue several records for ``topic`` (same headers) inside the caller's transaction, in order."""
    if not items:
        return
    created = now_millis()
    encoded = encode_headers(headers)
    conn.execute(
        _INSERT,
        [
            {"topic": topic, "key": _as_bytes(key), "value": value, "headers": encoded, "created_ms": created}
            for key, value in items
        ],
    )


def pending(conn: Connection, limit: int) -> list[OutboxRow]:
    """The oldest ``limit`` rows, in the order they were written."""
    query = sa.select(OUTBOX).order_by(OUTBOX.c.id).limit(limit)
    return [
        OutboxRow(
            int(r.id), str(r.topic), r.key, bytes(r.value), decode_headers(r.headers), int(r.created_ms)
        )
        for r in conn.execute(query)
    ]


def remove(conn: Connection, ids: Sequence[int]) -> None:
    """Forget rows the broker acknowledged."""
    if ids:
        conn.execute(OUTBOX.delete().where(OUTBOX.c.id.in_(list(ids))))


def stats(conn: Connection) -> OutboxStats:
    row = conn.execute(sa.select(sa.func.count(), sa.func.min(OUTBOX.c.created_ms))).one()
    return OutboxStats(int(row[0]), None if row[1] is None else int(row[1]))


__all__ = [
    "OUTBOX",
    "TABLE_NAME",
    "Header",
    "OutboxRow",
    "OutboxStats",
    "decode_headers",
    "encode_headers",
    "enqueue",
    "enqueue_many",
    "now_millis",
    "outbox_table",
    "pending",
    "remove",
    "stats",
]
