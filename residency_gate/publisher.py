"""The outbox relay: a thread that moves audit records from the outbox table to ``_spine.audit``.

A row leaves the outbox only after the broker acknowledged it, and rows are sent in order, so a broker
outage delays publication but loses nothing (delivery is at-least-once; consumers dedupe on ``seq``).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from residency_gate.storage import audit_log
from spine.headers import PRODUCER
from spine.kafka import Admin, KafkaClientError, Producer, TopicSpec
from spine.settings import KafkaSettings

logger = logging.getLogger(__name__)

_BATCH = 500
_DELIVERY_TIMEOUT_S = 15.0
_MAX_BACKOFF_S = 5.0


class OutboxRelay:
    """Publish pending outbox rows until stopped; ``wake()`` after enqueueing to send without waiting."""

    def __init__(self, engine: Engine, kafka: KafkaSettings, *, idle_seconds: float = 1.0) -> None:
        self._engine = engine
        self._kafka = kafka
        self._idle = idle_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Producer | None = None
        self._admin: Admin | None = None
        self._topics_ready: set[str] = set()
        self.published = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="residency-outbox-relay", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._producer is not None:
            try:
                self._producer.close(timeout=2.0)
            except KafkaClientError as exc:
                logger.warning("outbox relay: %s (rows stay in the outbox)", exc)
        # Dropping the clients lets librdkafka stop reconnecting to a broker that is down.
        self._producer = None
        self._admin = None

    def _run(self) -> None:
        backoff = 0.0
        while not self._stop.is_set():
            try:
                sent = self.relay_once()
                backoff = 0.0
            except (KafkaClientError, SQLAlchemyError, TimeoutError) as exc:
                backoff = self._back_off(backoff)
                logger.warning("outbox relay: %s; retrying in %.1fs", exc or type(exc).__name__, backoff)
                continue
            except Exception:
                backoff = self._back_off(backoff)
                logger.exception("outbox relay failed unexpectedly; retrying in %.1fs", backoff)
                continue
            if sent < _BATCH:
                self._wake.wait(self._idle)
                self._wake.clear()

    def _back_off(self, previous: float) -> float:
        delay = min(_MAX_BACKOFF_S, max(0.25, previous * 2))
        self._stop.wait(delay)
        return delay

    def relay_once(self) -> int:
        """Send one batch of pending rows and remove those the broker acknowledged; returns how many."""
        with self._engine.connect() as conn:
            rows = audit_log.pending(conn, _BATCH)
        if not rows:
            return 0
        producer = self._ensure_producer()
        self._ensure_topics({topic for _, topic, _, _ in rows})
        futures = [
            (row_id, producer.send(topic, value, key, headers=[(PRODUCER, b"residency-gate")]))
            for row_id, topic, key, value in rows
        ]
        delivered: list[int] = []
        failure: KafkaClientError | None = None
        for row_id, future in futures:
            error = future.exception(_DELIVERY_TIMEOUT_S)
            if error is not None:
                failure = error
                break
            delivered.append(row_id)
        if delivered:
            with self._engine.begin() as conn:
                audit_log.remove_sent(conn, delivered)
            self.published += len(delivered)
        if failure is not None:
            raise failure
        return len(delivered)

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(
                self._kafka,
                client_id="residency-gate-outbox",
                overrides={"message.timeout.ms": int(_DELIVERY_TIMEOUT_S * 1000)},
            )
        return self._producer

    def _ensure_topics(self, topics: set[str]) -> None:
        missing = topics - self._topics_ready
        if missing:
            if self._admin is None:
                self._admin = Admin(self._kafka, client_id="residency-gate-outbox")
            self._admin.create_topics([TopicSpec(t, partitions=1) for t in sorted(missing)], timeout=10.0)
            self._topics_ready |= missing


__all__ = ["OutboxRelay"]
