"""Alembic environment: migrations always run on a connection handed over by the registry."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from registry.storage.tables import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("registry migrations run through registry.storage.database.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
