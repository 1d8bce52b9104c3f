"""Count changes to subjects' versions, so every registry process on the database can keep its cache true.

``change_counter`` holds one row; a write bumps it as its last statement, which on PostgreSQL holds the
row's lock until commit, so changes become visible in the order of their numbers. ``subject_changes`` names
the subject each number changed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(counter, [{"id": 1, "seq": 0}])
    op.create_table(
        "subject_changes",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("subject", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("subject_changes")
    op.drop_table("change_counter")
