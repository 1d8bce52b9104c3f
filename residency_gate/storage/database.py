"""The gate's database: its default location, engine and migrations (the shared code is spine.sql)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from spine import sql
from spine.sql import DatabaseUnavailableError, Transaction, ping

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def default_database_url(home: Path) -> str:
    return f"sqlite:///{(home / 'residency' / 'gate.db').resolve()}"


def create_engine(url: str) -> Engine:
    return sql.create_engine(url, setting="SPINE_RESIDENCY_DATABASE_URL")


def migrate(engine: Engine) -> None:
    sql.migrate(engine, _MIGRATIONS)


__all__ = [
    "DatabaseUnavailableError",
    "Transaction",
    "create_engine",
    "default_database_url",
    "migrate",
    "ping",
]
