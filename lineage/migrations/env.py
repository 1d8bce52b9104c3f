"""Alembic environment: always run online, on the connection the service hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from lineage.storage.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("lineage migrations run only through lineage.storage.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
