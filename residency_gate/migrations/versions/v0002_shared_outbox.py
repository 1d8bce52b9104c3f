"""Move the audit outbox to the shared shape of ``spine.outbox`` (table ``spine_outbox``).

Every row still waiting is carried over, in order, with the producer header the relay used to add.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from spine.outbox.table import create_table_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_HEADERS = json.dumps([["spine.producer", base64.b64encode(b"residency-gate").decode("ascii")]])

_old = sa.table(
    "outbox",
    sa.column("id", sa.BigInteger),
    sa.column("topic", sa.String),
    sa.column("key", sa.String),
    sa.column("value", sa.Text),
    sa.column("created_at", sa.String),
)
_new = sa.table(
    "spine_outbox",
    sa.column("topic", sa.String),
    sa.column("key", sa.LargeBinary),
    sa.column("value", sa.LargeBinary),
    sa.column("headers", sa.Text),
    sa.column("created_ms", sa.BigInteger),
)


def _millis(text: str | None) -> int:
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def upgrade() -> None:
    create_table_v1(op)
    conn = op.get_bind()
    rows = conn.execute(sa.select(_old).order_by(_old.c.id)).all()
    if rows:
        conn.execute(
            _new.insert(),
            [
                {
                    "topic": row.topic,
                    "key": None if row.key is None else row.key.encode("utf-8"),
                    "value": row.value.encode("utf-8"),
                    "headers": _HEADERS,
                    "created_ms": _millis(row.created_at),
                }
                for row in rows
            ],
        )
    op.drop_table("outbox")


def downgrade() -> None:
    raise NotImplementedError("the shared outbox cannot be turned back into the old one")
