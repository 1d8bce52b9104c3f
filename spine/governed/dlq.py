"""Dead letters of governed topics: write one with the DLQ headers, and the one replay routine's ledger.

A dead letter keeps the original key and value untouched; why and where it failed travels in
:class:`spine.headers.DlqHeaders`. Replays are recorded by DLQ offset in a SQLite ledger under
``$SPINE_HOME/spool``, so a record is never sent twice, even across processes.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from spine.headers import DlqHeaders, HeaderInput
from spine.kafka import DeliveryFuture, Producer
from spine.topics import dlq_topic


def now_ms() -> int:
    return int(time.time() * 1000)


class DlqWriter:
    """Send records that failed on ``topic`` to ``<topic>.dlq`` through a spine producer."""

    def __init__(self, producer: Producer, topic: str, origin: str) -> None:
        self.producer = producer
        self.topic = dlq_topic(topic)
        self.source = topic
        self.origin = origin

    def send(
        self,
        value: bytes | None,
        key: bytes | None,
        *,
        reason: str,
        error_code: str,
        stage: str,
        headers: HeaderInput = None,
        attempts: int = 1,
        first_failure_ms: int | None = None,
        partition: int | None = None,
        offset: int | None = None,
        route: str | None = None,
        decision_id: str | None = None,
    ) -> DeliveryFuture:
        last = now_ms()
        dlq = DlqHeaders(
            reason=reason,
            error_code=error_code,
            origin=self.origin,
            stage=stage,
            first_failure_ms=first_failure_ms or last,
            last_failure_ms=last,
            attempts=attempts,
            origin_topic=self.source,
            origin_partition=partition,
            origin_offset=offset,
            route=route,
            decision_id=decision_id,
        )
        return self.producer.send(self.topic, value, key, headers=dlq.attach(headers))


class ReplayLedger:
    """Which offsets of which DLQ topic were already replayed (durable, one SQLite file)."""

    def __init__(self, home: Path) -> None:
        path = home / "spool" / "dlq-replays.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS replayed (topic TEXT, partition INTEGER, dlq_offset INTEGER, "
            "replayed_at_ms INTEGER, PRIMARY KEY (topic, partition, dlq_offset))"
        )

    def replayed(self, topic: str) -> set[tuple[int, int]]:
        rows = self._db.execute("SELECT partition, dlq_offset FROM replayed WHERE topic = ?", (topic,))
        return {(int(p), int(o)) for p, o in rows}

    def claim(self, topic: str, partition: int, offset: int) -> bool:
        """Record the offset as replayed; False when it already was (someone else replays it)."""
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO replayed VALUES (?, ?, ?, ?)", (topic, partition, offset, now_ms())
        )
        return cursor.rowcount == 1

    def release(self, topic: str, partition: int, offset: int) -> None:
        """Forget a claim whose send failed, so a later replay tries it again."""
        self._db.execute(
            "DELETE FROM replayed WHERE topic = ? AND partition = ? AND dlq_offset = ?",
            (topic, partition, offset),
        )

    def close(self) -> None:
        self._db.close()


__all__ = ["DlqWriter", "ReplayLedger", "now_ms"]
