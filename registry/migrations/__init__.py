"""Alembic migrations of the registry database, run at start-up by ``Database.migrate``."""
