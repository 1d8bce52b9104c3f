"""The registry's SQL tables (SQLAlchemy Core). Alembic migrations create them; code reads them from here."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from spine.outbox import outbox_table

metadata = MetaData()

GLOBAL_SCOPE = "__GLOBAL__"

schemas = Table(
    "schemas",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schema_type", String(16), nullable=False),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("canonical", Text, nullable=False),
    Column("raw", Text, nullable=False),
    # Canonical JSON of Confluent's metadata and ruleSet (migration 0006).
    Column("metadata", Text, nullable=True),
    Column("rule_set", Text, nullable=True),
)

subjects = Table(
    "subjects",
    metadata,
    Column("name", String(255), primary_key=True),
)

subject_versions = Table(
    "subject_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(255), ForeignKey("subjects.name"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("schema_id", Integer, ForeignKey("schemas.id"), nullable=False, index=True),
    Column("semver", String(64), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("deprecated", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subject", "version", name="uq_subject_version"),
)

# The highest semantic version a subject ever issued; outlives permanent deletes (no key to ``subjects``).
semver_marks = Table(
    "semver_marks",
    metadata,
    Column("subject", String(255), primary_key=True),
    Column("semver", String(64), nullable=False),
)

# Each field's last classification tags per subject, by the key readers resolve it by; like ``semver_marks``
# it outlives permanent deletes, so a subject republished after one is checked against the tags it had.
field_classes = Table(
    "field_classes",
    metadata,
    Column("subject", String(255), primary_key=True),
    Column("schema_type", String(16), primary_key=True),
    Column("field_key", Text, primary_key=True),
    Column("path", Text, nullable=False),
    Column("tags", Text, nullable=False),
)

schema_references = Table(
    "schema_references",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("schema_id", Integer, ForeignKey("schemas.id"), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("version", Integer, nullable=False),
)

config = Table(
    "config",
    metadata,
    Column("scope", String(255), primary_key=True),
    Column("compatibility", String(32), nullable=True),
    Column("lint", Text, nullable=True),
    Column("compatibility_group", String(255), nullable=True),
)

mode = Table(
    "mode",
    metadata,
    Column("scope", String(255), primary_key=True),
    Column("mode", String(32), nullable=False),
)

# One row: the number of the newest change to any subject's versions (see migration 0005).
change_counter = Table(
    "change_counter",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
)

subject_changes = Table(
    "subject_changes",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("subject", String(255), nullable=False),
)

outbox = outbox_table(metadata)
