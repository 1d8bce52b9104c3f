"""Remember each field's last classification tags per subject, so a permanent delete cannot launder them.

The table is filled by replaying every stored version of each subject in order, deleted ones included,
with the registry's own parser: a field keeps the tags of the newest version that has it. A schema that no
longer parses (a parser grew stricter) is skipped; its fields keep the tags of the versions before it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from alembic import op

from registry.classification import FieldClass, field_classes
from registry.errors import RegistryError
from registry.schemas import parse_schema

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)

_SCHEMA = sa.text("SELECT schema_type, raw FROM schemas WHERE id = :id")
_REFERENCES = sa.text(
    "SELECT r.name, v.schema_id FROM schema_references r JOIN subject_versions v "
    "ON v.subject = r.subject AND v.version = r.version WHERE r.schema_id = :id ORDER BY r.id"
)


def _reference_texts(conn: sa.Connection, schema_id: int, texts: dict[str, str]) -> dict[str, str]:
    for name, target in conn.execute(_REFERENCES, {"id": schema_id}).all():
        if name not in texts:
            _reference_texts(conn, int(target), texts)
            texts[name] = str(conn.execute(_SCHEMA, {"id": target}).one().raw)
    return texts


def _classes(conn: sa.Connection, schema_id: int) -> list[FieldClass]:
    row = conn.execute(_SCHEMA, {"id": schema_id}).one()
    try:
        parsed = parse_schema(row.schema_type, row.raw, _reference_texts(conn, schema_id, {}) or None)
    except RegistryError as exc:
        logger.warning("schema %d skipped while remembering field tags: %s", schema_id, exc)
        return []
    return field_classes(parsed, untagged=True)


def upgrade() -> None:
    table = op.create_table(
        "field_classes",
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("schema_type", sa.String(16), primary_key=True),
        sa.Column("field_key", sa.Text, primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT subject, schema_id FROM subject_versions ORDER BY subject, version")
    ).all()
    remembered: dict[tuple[str, str, str], FieldClass] = {}
    for subject, schema_id in rows:
        for item in _classes(conn, int(schema_id)):
            remembered[(subject, item.schema_type, item.key)] = item
    values = [
        {
            "subject": subject,
            "schema_type": item.schema_type,
            "field_key": item.key,
            "path": item.path,
            "tags": json.dumps(list(item.tags)),
        }
        for (subject, _, _), item in remembered.items()
        if item.tags
    ]
    if values:
        op.bulk_insert(table, values)


def downgrade() -> None:
    op.drop_table("field_classes")
