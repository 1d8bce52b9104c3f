"""A local durable spool for processes without a database of their own (CLI, SDK, pipelines).

The same outbox table in a SQLite file under ``$SPINE_HOME/spool/``, drained by the same relay: a record
spooled while the broker is down is sent by whichever process next drains that spool.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spine.kafka import TopicSpec
from spine.outbox import table
from spine.outbox.relay import OutboxRelay
from spine.outbox.table import OutboxStats
from spine.settings import KafkaSettings

_metadata = sa.MetaData()
_SPOOL_TABLE = table.outbox_table(_metadata)


def spool_path(home: Path, name: str) -> Path:
    return home / "spool" / f"{name}.db"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Spool:
    """An outbox in ``$SPINE_HOME/spool/<name>.db``; ``enqueue`` commits at once."""

    def __init__(self, home: Path, name: str) -> None:
        self.name = name
        self.path = spool_path(home, name)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = sa.create_engine(
            f"sqlite:///{self.path}", connect_args={"check_same_thread": False, "timeout": 10}
        )
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        _metadata.create_all(self.engine)

    def enqueue(
        self,
        topic: str,
        key: bytes | str | None,
        value: bytes,
        *,
        headers: Sequence[tuple[str, bytes | str | None]] = (),
    ) -> None:
        with self.engine.begin() as conn:
            table.enqueue(conn, topic, key, value, headers=headers)

    def stats(self) -> OutboxStats:
        with self.engine.connect() as conn:
            return table.stats(conn)

    def relay(self, kafka: KafkaSettings, *, topics: Mapping[str, TopicSpec] | None = None) -> OutboxRelay:
        """A relay over this spool (start it for a long-running process, or call :meth:`drain`)."""
        return OutboxRelay(self.engine, kafka, name=f"spool-{self.name}", topics=topics)

    def drain(
        self, kafka: KafkaSettings, *, timeout: float = 30.0, topics: Mapping[str, TopicSpec] | None = None
    ) -> int:
        """Send what is spooled, retrying until empty or ``timeout``; returns how many rows are left."""
        relay = OutboxRelay(
            self.engine,
            kafka,
            name=f"spool-{self.name}",
            topics=topics,
            delivery_timeout_s=max(1.0, min(15.0, timeout / 2)),
        )
        deadline = time.monotonic() + timeout
        delay = 0.0
        try:
            while self.stats().pending and time.monotonic() < deadline:
                try:
                    relay.relay_once()
                    delay = 0.0
                    if not relay.leading:  # another process's relay holds this spool: it sends them
                        time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
                except Exception:
                    relay.stop(0)
                    delay = min(2.0, max(0.25, delay * 2))
                    time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        finally:
            relay.stop(0)
        return self.stats().pending

    def close(self) -> None:
        self.engine.dispose()


__all__ = ["Spool", "spool_path"]
