"""Create the registry tables: schemas, subjects, versions, references, config, mode, outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schemas",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("schema_type", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("canonical", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
    )
    op.create_table("subjects", sa.Column("name", sa.String(255), primary_key=True))
    op.create_table(
        "subject_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(255), sa.ForeignKey("subjects.name"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("schema_id", sa.Integer, sa.ForeignKey("schemas.id"), nullable=False),
        sa.Column("semver", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("deprecated", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("subject", "version", name="uq_subject_version"),
    )
    op.create_index("ix_subject_versions_schema_id", "subject_versions", ["schema_id"])
    op.create_table(
        "schema_references",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("schema_id", sa.Integer, sa.ForeignKey("schemas.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_schema_references_schema_id", "schema_references", ["schema_id"])
    op.create_table(
        "config",
        sa.Column("scope", sa.String(255), primary_key=True),
        sa.Column("compatibility", sa.String(32), nullable=True),
        sa.Column("lint", sa.Text, nullable=True),
    )
    op.create_table(
        "mode",
        sa.Column("scope", sa.String(255), primary_key=True),
        sa.Column("mode", sa.String(32), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])


def downgrade() -> None:
    for name in ("outbox", "mode", "config", "schema_references", "subject_versions", "subjects", "schemas"):
        op.drop_table(name)
