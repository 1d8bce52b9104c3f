"""Which relay of an outbox sends: the one process holding the outbox's lease.

Several processes may run a relay over one outbox table (registry replicas on one PostgreSQL database, CLI
runs and pipelines sharing a spool file). If each sent, every record would go out once per process, and two
relays interleaving could put an older record of a key after a newer one. So a relay sends only while it
holds the lease; the others stand by and take over when it goes away:

- PostgreSQL: a session advisory lock (scoped to the database) on a connection of its own, released by the
  server when that connection ends, so a killed holder frees it at once. A broken lock connection is noticed
  at the next check and the lease is taken again (or left to whoever got it).
- SQLite file: an exclusive ``flock`` on ``<database>.relay-lock``, released by the kernel when the process
  ends. An in-memory database cannot be shared, so its relay always holds the lease.
- Any other database: always held (no shared-lease mechanism is known for it).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from spine.outbox.table import TABLE_NAME

logger = logging.getLogger(__name__)

# The advisory lock's number: stable across processes and releases, derived from the table's name.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(TABLE_NAME.encode()).digest()[:8], "big", signed=True)
_RECHECK_S = 1.0


class RelayLease:
    """``held()`` answers whether this process may send now, taking the lease when it is free."""

    def __init__(self, engine: Engine, *, name: str) -> None:
        self.name = name
        self._engine = engine
        self._dialect = engine.dialect.name
        self._conn: Connection | None = None  # PostgreSQL: the connection holding the advisory lock
        self._fd: int | None = None  # SQLite: the open lock file holding the flock
        self._checked = 0.0
        self._lock_path = _sqlite_lock_path(engine) if self._dialect == "sqlite" else None
        self._always = self._dialect not in ("postgresql", "sqlite") or (
            self._dialect == "sqlite" and self._lock_path is None
        )
        self._was_held: bool | None = None

    def held(self) -> bool:
        if self._always:
            return True
        now = self._postgres_held() if self._dialect == "postgresql" else self._sqlite_held()
        if now != self._was_held:
            logger.info("%s outbox relay %s", self.name, "holds the lease" if now else "stands by")
            self._was_held = now
        return now

    def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
            except SQLAlchemyError:
                pass  # the connection is broken: the server released the lock with it
            finally:
                conn.close()
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the flock
        self._was_held = None

    # --- PostgreSQL -----------------------------------------------------------------------------------

    def _postgres_held(self) -> bool:
        if self._conn is not None:
            if time.monotonic() - self._checked < _RECHECK_S:
                return True
            try:
                self._conn.execute(sa.text("SELECT 1"))
                self._checked = time.monotonic()
                return True
            except SQLAlchemyError:
                logger.warning("%s outbox relay lost its lease connection; taking the lease again", self.name)
                self._conn.invalidate()
                self._conn.close()
                self._conn = None
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar()
        except SQLAlchemyError:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        self._checked = time.monotonic()
        return True

    # --- SQLite ---------------------------------------------------------------------------------------

    def _sqlite_held(self) -> bool:
        if self._fd is not None:
            return True
        assert self._lock_path is not None
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True


def _sqlite_lock_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(f"{database}.relay-lock")


__all__ = ["ADVISORY_KEY", "RelayLease"]
