"""The gate's SQL tables (SQLAlchemy Core): policies, the audit log, checkpoints, quarantine, outbox.

Audit records are stored as the exact canonical JSON text that was hashed, so what an auditor exports is
byte-for-byte what was sealed; the other columns are copies for indexing only.
"""

from __future__ import annotations

import sqlalchemy as sa

from spine.outbox import outbox_table

metadata = sa.MetaData()

_AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("revision", _AutoId, primary_key=True, autoincrement=True),
    sa.Column("version", sa.String(128), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
    sa.Column("source_text", sa.Text(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, default=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

audit_records = sa.Table(
    "audit_records",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("decision_id", sa.String(80), nullable=True, index=True),
    sa.Column("time", sa.String(40), nullable=False, index=True),
    sa.Column("record", sa.Text(), nullable=False),
)

checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("tree_size", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.String(64), nullable=False),
    sa.Column("time", sa.String(40), nullable=False),
    sa.Column("key_id", sa.String(128), nullable=False),
    sa.Column("document", sa.Text(), nullable=False),
)

quarantined_sinks = sa.Table(
    "quarantined_sinks",
    metadata,
    sa.Column("sink", sa.String(249), primary_key=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

outbox = outbox_table(metadata)
