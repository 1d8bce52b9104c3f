"""The relay: a thread that ships outbox rows to Kafka, at least once and in order per key.

Of the relays over one outbox, only the one holding its lease (:mod:`spine.outbox.lease`) sends; the
others stand by, so a record is not sent once per process and two relays never reorder a key.

A row leaves the table only after the broker acknowledged it. Any failure (a delivery error, an unknown
topic, all brokers down, a fatal idempotence error) drops the producer and admin client and forgets which
topics exist, so after a broker restart -- Tansu comes back empty -- the next attempt reconnects, creates
each topic again with its configs and resends what is still pending.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from spine.kafka import Admin, KafkaClientError, KafkaUnavailableError, Producer, TopicSpec
from spine.outbox import table
from spine.outbox.lease import RelayLease
from spine.outbox.table import OutboxRow, OutboxStats
from spine.settings import KafkaSettings

logger = logging.getLogger(__name__)

_BACKOFF_FLOOR_S = 0.25
# Codes meaning "the broker we knew is gone": forget the topics even before a batch fails.
_BROKER_LOST = {"_ALL_BROKERS_DOWN", "_TRANSPORT", "UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC"}


def backoff_delay(previous: float, *, ceiling: float) -> float:
    """The next wait after a failure: doubling from a quarter second, never above ``ceiling``."""
    return min(ceiling, max(_BACKOFF_FLOOR_S, previous * 2))


def settle(
    rows: Sequence[OutboxRow], outcomes: Sequence[KafkaClientError | None]
) -> tuple[list[int], KafkaClientError | None]:
    """Which rows may leave the outbox, and the first failure.

    A row may leave once acknowledged, unless an earlier row with the same key failed: it stays, and is
    sent again after that one, so the last record of every key on the topic is its newest.
    """
    delivered: list[int] = []
    failed_keys: set[bytes | None] = set()
    failure: KafkaClientError | None = None
    for row, error in zip(rows, outcomes, strict=True):
        if error is not None:
            failure = failure or error
            failed_keys.add(row.key)
        elif row.key not in failed_keys:
            delivered.append(row.id)
    return delivered, failure


class OutboxRelay:
    """Publish pending rows of one outbox until stopped; call ``wake()`` after a commit that enqueued."""

    def __init__(
        self,
        engine: Engine,
        kafka: KafkaSettings,
        *,
        name: str,
        topics: Mapping[str, TopicSpec] | None = None,
        batch: int = 500,
        delivery_timeout_s: float = 15.0,
        max_backoff_s: float = 5.0,
        idle_s: float = 1.0,
    ) -> None:
        """``topics`` gives the spec a topic is created with; any other topic gets one partition."""
        self.name = name
        self._engine = engine
        self._kafka = kafka
        self._specs = dict(topics or {})
        self._batch = batch
        self._delivery_timeout_s = delivery_timeout_s
        self._max_backoff_s = max_backoff_s
        self._idle_s = idle_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Producer | None = None
        self._admin: Admin | None = None
        self._topics_ready: set[str] = set()
        self._broker_lost = threading.Event()
        self._lease = RelayLease(engine, name=name)
        self.leading = False  # whether the last attempt held the lease
        self.published = 0
        self.last_error: str | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-outbox-relay", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._drop_clients()
        self._lease.release()
        self.leading = False

    def stats(self) -> OutboxStats:
        with self._engine.connect() as conn:
            return table.stats(conn)

    # --- the loop -------------------------------------------------------------------------------------

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            try:
                sent = self.relay_once()
            except (KafkaClientError, SQLAlchemyError) as exc:
                delay = self._fail(delay, str(exc) or type(exc).__name__)
                continue
            except Exception as exc:
                logger.exception("%s outbox relay failed unexpectedly", self.name)
                delay = self._fail(delay, f"{type(exc).__name__}: {exc}")
                continue
            delay = 0.0
            self.last_error = None
            if sent < self._batch:
                self._wake.wait(self._idle_s)
                self._wake.clear()

    def _fail(self, previous: float, reason: str) -> float:
        """Forget clients and topics, record why, and wait before the next attempt."""
        self._drop_clients()
        self.last_error = reason
        delay = backoff_delay(previous, ceiling=self._max_backoff_s)
        logger.warning("%s outbox relay: %s; retrying in %.2fs", self.name, reason, delay)
        self._stop.wait(delay)
        return delay

    def relay_once(self) -> int:
        """Send one batch and remove the rows the broker acknowledged; raise on the first failure.

        Sends nothing (and returns 0) while another relay holds the outbox's lease."""
        self.leading = self._lease.held()
        if not self.leading:
            return 0
        with self._engine.connect() as conn:
            rows = table.pending(conn, self._batch)
        if not rows:
            return 0
        if self._broker_lost.is_set():
            self._broker_lost.clear()
            self._drop_clients()
        producer = self._ensure_producer()
        self._ensure_topics({row.topic for row in rows})
        futures = [
            producer.send(row.topic, row.value, row.key, headers=list(row.headers) or None) for row in rows
        ]
        deadline = time.monotonic() + self._delivery_timeout_s + 5.0
        outcomes: list[KafkaClientError | None] = []
        for future in futures:
            try:
                outcomes.append(future.exception(max(0.0, deadline - time.monotonic())))
            except KafkaUnavailableError as exc:  # not settled in time
                outcomes.append(exc)
        delivered, failure = settle(rows, outcomes)
        if delivered:
            with self._engine.begin() as conn:
                table.remove(conn, delivered)
            self.published += len(delivered)
        if failure is not None:
            raise failure
        return len(delivered)

    # --- clients --------------------------------------------------------------------------------------

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(
                self._kafka,
                client_id=f"{self.name}-outbox",
                overrides={
                    "message.timeout.ms": int(self._delivery_timeout_s * 1000),
                    # Never let a produce auto-create a topic: it would lack its configs (and partitions).
                    "allow.auto.create.topics": False,
                    "topic.metadata.propagation.max.ms": 3000,
                },
                on_error=self._on_client_error,
            )
        return self._producer

    def _ensure_topics(self, topics: set[str]) -> None:
        missing = topics - self._topics_ready
        if not missing:
            return
        if self._admin is None:
            self._admin = Admin(self._kafka, client_id=f"{self.name}-outbox-admin")
        specs = [self._specs.get(name) or TopicSpec(name, partitions=1) for name in sorted(missing)]
        self._admin.create_topics(specs, timeout=min(10.0, self._delivery_timeout_s))
        self._topics_ready |= missing

    def _on_client_error(self, error: KafkaClientError) -> None:
        if error.fatal or error.code in _BROKER_LOST:
            self._broker_lost.set()

    def _drop_clients(self) -> None:
        self._topics_ready.clear()
        producer, self._producer = self._producer, None
        self._admin = None
        if producer is not None:
            try:
                producer.abandon()
            except Exception:  # a fatal producer may refuse even this; it is dropped either way
                logger.debug("%s outbox relay: abandoning the producer failed", self.name, exc_info=True)


__all__ = ["OutboxRelay", "backoff_delay", "settle"]
