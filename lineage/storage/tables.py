"""The lineage store's SQL tables (SQLAlchemy Core). Times are sortable UTC text; facets are JSON text."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

_AutoId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NAME = 1024
TIME = 40


def _name(column: str, **kwargs: object) -> sa.Column[str]:
    return sa.Column(column, sa.String(NAME), **kwargs)  # type: ignore[arg-type]


def _time(column: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(column, sa.String(TIME), nullable=nullable)


events = sa.Table(
    "events",
    metadata,
    sa.Column("id", _AutoId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False, unique=True),
    _time("event_time"),
    sa.Column("event_type", sa.String(20), nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True, index=True),
    _name("job_namespace", nullable=True),
    _name("job_name", nullable=True),
    _time("received_at"),
    sa.Column("payload", sa.Text(), nullable=False),
)

namespaces = sa.Table(
    "namespaces",
    metadata,
    _name("name", primary_key=True),
    _time("created_at"),
    _time("updated_at"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _name("namespace", primary_key=True),
    _name("name", primary_key=True),
    _time("created_at"),
    _time("updated_at"),
    sa.Column("facets", sa.Text(), nullable=False),
    sa.Column("latest_run_id", sa.String(64), nullable=True),
    _time("latest_run_at", nullable=True),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    _name("job_namespace", nullable=False),
    _name("job_name", nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    _time("state_at", nullable=True),
    _time("created_at"),
    _time("updated_at"),
    _time("started_at", nullable=True),
    _time("ended_at", nullable=True),
    sa.Column("parent_run_id", sa.String(64), nullable=True),
    sa.Column("facets", sa.Text(), nullable=False),
    sa.Index("ix_runs_job", "job_namespace", "job_name"),
)

run_io = sa.Table(
    "run_io",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    _name("namespace", primary_key=True),
    _name("name", primary_key=True),
    sa.Column("direction", sa.String(3), primary_key=True),  # "in" or "out"
)

datasets = sa.Table(
    "datasets",
    metadata,
    _name("namespace", primary_key=True),
    _name("name", primary_key=True),
    _time("created_at"),
    _time("updated_at"),
    sa.Column("current_version", sa.String(36), nullable=True),
    sa.Column("current_hash", sa.String(64), nullable=True),
    _time("current_at", nullable=True),
    _time("last_modified_at", nullable=True),
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("version", sa.String(36), primary_key=True),
    _name("namespace", nullable=False),
    _name("name", nullable=False),
    _time("created_at"),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("facets", sa.Text(), nullable=False),
    sa.Index("ix_dataset_versions_dataset", "namespace", "name", "created_at"),
)

dataset_fields = sa.Table(
    "dataset_fields",
    metadata,
    sa.Column("version", sa.String(36), primary_key=True),
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    _name("name", nullable=False),
    sa.Column("type", sa.String(NAME), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
)

dataset_tags = sa.Table(
    "dataset_tags",
    metadata,
    sa.Column("id", _AutoId, primary_key=True, autoincrement=True),
    sa.Column("version", sa.String(36), nullable=False, index=True),
    _name("field", nullable=True),
    _name("tag", nullable=False, index=True),
    sa.Column("value", sa.Text(), nullable=True),
    sa.Column("source", sa.String(NAME), nullable=True),
    sa.Column("origin", sa.String(10), nullable=False),
)

column_lineage = sa.Table(
    "column_lineage",
    metadata,
    _name("namespace", primary_key=True),
    _name("name", primary_key=True),
    _name("field", primary_key=True),
    _name("source_namespace", primary_key=True),
    _name("source_name", primary_key=True),
    _name("source_field", primary_key=True),
    sa.Column("transformation", sa.Text(), nullable=True),
    _time("since"),
    _time("last_seen"),
    sa.Index("ix_column_lineage_source", "source_namespace", "source_name", "source_field"),
)

edges = sa.Table(
    "edges",
    metadata,
    sa.Column("origin_kind", sa.String(8), primary_key=True),
    _name("origin_namespace", primary_key=True),
    _name("origin_name", primary_key=True),
    sa.Column("destination_kind", sa.String(8), primary_key=True),
    _name("destination_namespace", primary_key=True),
    _name("destination_name", primary_key=True),
    _time("since"),
    _time("last_seen"),
    sa.Index("ix_edges_destination", "destination_kind", "destination_namespace", "destination_name"),
)
