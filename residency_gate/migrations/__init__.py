"""Alembic migrations of the gate's database, run by the service at start (see storage.database)."""
