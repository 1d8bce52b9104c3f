"""Create policies, audit_records, checkpoints, quarantined_sinks and outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("revision", _AutoId, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("decision_id", sa.String(80), nullable=True),
        sa.Column("time", sa.String(40), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
    )
    op.create_index("ix_audit_records_decision_id", "audit_records", ["decision_id"])
    op.create_index("ix_audit_records_time", "audit_records", ["time"])
    op.create_table(
        "checkpoints",
        sa.Column("tree_size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("time", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_table(
        "quarantined_sinks",
        sa.Column("sink", sa.String(249), primary_key=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", _AutoId, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in ("outbox", "quarantined_sinks", "checkpoints", "audit_records", "policies"):
        op.drop_table(table)
