"""Move the schema-event outbox to the shared shape of ``spine.outbox`` (table ``spine_outbox``).

Unsent events are carried over, Avro-encoded as the relay now sends them; sent ones are dropped.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from spine.outbox.table import create_table_v1

from registry.events import encode_event, event_schema

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None

_old = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("topic", sa.String),
    sa.column("key", sa.String),
    sa.column("payload", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("sent_at", sa.DateTime(timezone=True)),
)


_AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COLUMNS = (
    ("id", _AutoId),
    ("topic", sa.String(249)),
    ("key", sa.LargeBinary()),
    ("value", sa.LargeBinary()),
    ("headers", sa.Text()),
    ("created_ms", sa.BigInteger()),
)
_new = sa.table("spine_outbox", *(sa.column(name, kind) for name, kind in _COLUMNS))


def _millis(value: datetime | None) -> int:
    if value is None:
        return int(datetime.now(UTC).timestamp() * 1000)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def upgrade() -> None:
    create_table_v1(op)
    conn = op.get_bind()
    schema = event_schema()
    rows = conn.execute(sa.select(_old).where(_old.c.sent_at.is_(None)).order_by(_old.c.id)).all()
    if rows:
        conn.execute(
            _new.insert(),
            [
                {
                    "topic": row.topic,
                    "key": row.key.encode("utf-8"),
                    "value": encode_event(schema, json.loads(row.payload)),
                    "headers": None,
                    "created_ms": _millis(row.created_at),
                }
                for row in rows
            ],
        )
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.drop_table("outbox")


def downgrade() -> None:
    raise NotImplementedError("the shared outbox cannot be turned back into the old one")
