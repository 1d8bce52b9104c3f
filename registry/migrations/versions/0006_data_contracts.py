"""Data contracts: a schema's ``metadata`` and ``ruleSet`` (part of its identity, as in Confluent, so they
are in its fingerprint) and a subject's ``compatibilityGroup``.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schemas") as batch:
        batch.add_column(sa.Column("metadata", sa.Text, nullable=True))
        batch.add_column(sa.Column("rule_set", sa.Text, nullable=True))
    with op.batch_alter_table("config") as batch:
        batch.add_column(sa.Column("compatibility_group", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("config") as batch:
        batch.drop_column("compatibility_group")
    with op.batch_alter_table("schemas") as batch:
        batch.drop_column("rule_set")
        batch.drop_column("metadata")
