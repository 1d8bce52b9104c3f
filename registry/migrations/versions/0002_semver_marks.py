"""Keep the highest semantic version each subject ever issued, so deletes cannot restart the semver line.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

_SEMVER = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")


def _key(text: str) -> tuple[int, int, int]:
    match = _SEMVER.fullmatch(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else (-1, -1, -1)


def upgrade() -> None:
    marks = op.create_table(
        "semver_marks",
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("semver", sa.String(64), nullable=False),
    )
    rows = op.get_bind().execute(sa.text("SELECT subject, semver FROM subject_versions")).all()
    highest: dict[str, str] = {}
    for subject, semver in rows:
        if subject not in highest or _key(semver) > _key(highest[subject]):
            highest[subject] = semver
    if highest:
        op.bulk_insert(marks, [{"subject": s, "semver": v} for s, v in highest.items()])


def downgrade() -> None:
    op.drop_table("semver_marks")
