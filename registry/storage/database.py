"""Engines, migrations and transactions for the registry database (SQLite file or PostgreSQL).

Writes are serialised per subject: on SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (one
writer at a time, readers unaffected in WAL mode); on PostgreSQL the repository locks the subject's row.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from registry.errors import StorageError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def sqlite_url(home: Path) -> str:
    path = home / "registry" / "registry.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class Database:
    """A read engine and a write engine over one database; ``read()``/``write()`` yield a transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock()
        self.on_commit: Callable[[], None] = lambda: None
        try:
            if self.is_sqlite:
                self._reader = self._sqlite_engine(url, immediate=False)
                self._writer = self._sqlite_engine(url, immediate=True)
            else:
                self._reader = create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)
                self._writer = self._reader
        except (SQLAlchemyError, ValueError) as exc:
            raise StorageError(f"registry database {self.safe_url}: {exc}") from exc

    @property
    def safe_url(self) -> str:
        return self._reader.url.render_as_string(hide_password=True) if hasattr(self, "_reader") else "?"

    @property
    def engine(self) -> Engine:
        """The write engine, for the outbox relay (which runs its own short transactions)."""
        return self._writer

    @property
    def dialect(self) -> str:
        return self._writer.dialect.name

    @staticmethod
    def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision``, the newest by default (an older one is for upgrade tests)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self._writer.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        except SQLAlchemyError as exc:
            raise StorageError(f"registry database {self.safe_url}: migration failed: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self._reader.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"registry database read failed: {type(exc).__name__}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; ``on_commit`` runs after it committed (it wakes the outbox relay)."""
        try:
            if self.is_sqlite:
                with self._write_lock, self._writer.begin() as conn:
                    yield conn
            else:
                with self._writer.begin() as conn:
                    yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"registry database write failed: {type(exc).__name__}") from exc
        self.on_commit()

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self._reader.dispose()
        self._writer.dispose()
