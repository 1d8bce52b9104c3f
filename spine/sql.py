"""What every service's SQL storage shares: engines, transactions that fail as 503s, migrations, a ping.

Each service keeps its own database and migrations; this module only builds the engine (SQLite with WAL and a
busy timeout embedded, a pre-pinging pool on PostgreSQL) and turns SQLAlchemy failures into
:class:`DatabaseUnavailableError`, which each service's error table answers with its own 503 code.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from spine.errors import ConfigError, DatabaseUnavailableError

logger = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, *, setting: str) -> Engine:
    """An engine for ``url`` (read from ``setting``, which a bad URL's error names); a SQLite file's
    directory is created, and WAL mode keeps readers unblocked."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"{setting}: not a database URL: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class Transaction:
    """``engine.begin()`` that turns database failures into :class:`DatabaseUnavailableError`."""

    def __init__(self, engine: Engine) -> None:
        self._context = engine.begin()

    def __enter__(self) -> Connection:
        try:
            return self._context.__enter__()
        except SQLAlchemyError as exc:
            raise DatabaseUnavailableError(f"database unavailable: {exc.__class__.__name__}") from exc

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self._context.__exit__(exc_type, exc, tb)
        except SQLAlchemyError as error:
            logger.error("database commit failed: %s", error)
            raise DatabaseUnavailableError(f"database write failed: {error.__class__.__name__}") from error
        if isinstance(exc, SQLAlchemyError):
            logger.error("database write failed: %s", exc)
            raise DatabaseUnavailableError(f"database write failed: {exc.__class__.__name__}") from exc


def migrate(engine: Engine, script_location: Path) -> None:
    """Bring the schema to the newest revision of the Alembic scripts in ``script_location`` (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError(f"database migration failed: {exc.__class__.__name__}: {exc}") from exc


def ping(engine: Engine) -> None:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailableError(f"database unreachable: {exc.__class__.__name__}") from exc


__all__ = ["DatabaseUnavailableError", "Transaction", "create_engine", "migrate", "ping"]
