"""Relay of schema events from the outbox table to the compacted topic ``_spine.schemas``.

Events are written to the outbox in the same transaction as the change they describe, so a broker outage
loses nothing: the relay keeps retrying and marks a row sent only after the broker acknowledged it. Values
are Avro (schemaless, ``schemas/schema_event.avsc``); keys are the subject.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro

import schemas
from registry.storage import Database
from registry.storage import repository as repo
from spine.kafka import Admin, DeliveryFuture, KafkaClientError, Producer, TopicSpec
from spine.settings import KafkaSettings

logger = logging.getLogger(__name__)

EVENT_SCHEMA = "schema_event.avsc"


def event_schema() -> Any:
    return fastavro.parse_schema(json.loads(schemas.read(EVENT_SCHEMA)))


def encode_event(schema: Any, payload: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, payload)
    return buffer.getvalue()


def decode_event(schema: Any, data: bytes) -> dict[str, Any]:
    record = fastavro.schemaless_reader(io.BytesIO(data), schema, schema)
    if not isinstance(record, dict):
        raise TypeError("a schema event decodes to a record")
    return record


class OutboxRelay:
    """A daemon thread that ships pending outbox rows to Kafka, at least once, in order per subject."""

    def __init__(
        self,
        db: Database,
        kafka: KafkaSettings,
        *,
        interval_s: float = 0.2,
        keep_sent: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.kafka = kafka
        self.interval_s = interval_s
        self.keep_sent = keep_sent
        self._next_prune = 0.0
        self._schema = event_schema()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Producer | None = None
        self._topics_ready: set[str] = set()
        self._in_flight: set[int] = set()
        self._delivered: list[int] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="registry-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._producer is not None:
            try:
                self._producer.close(timeout=min(timeout, 2.0))
            except KafkaClientError as exc:
                logger.warning("schema events still queued at shutdown stay in the outbox: %s", exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                logger.exception("outbox relay pass failed; retrying")
            self._stop.wait(self.interval_s)

    def _ensure_topic(self, topic: str) -> bool:
        if topic in self._topics_ready:
            return True
        try:
            spec = TopicSpec(topic, partitions=1, config={"cleanup.policy": "compact"})
            Admin(self.kafka, client_id="spine-registry-admin").create_topics([spec], timeout=5.0)
        except KafkaClientError as exc:
            logger.debug("cannot create %s yet: %s", topic, exc)
            return False
        self._topics_ready.add(topic)
        return True

    def run_once(self) -> int:
        """Send what is pending and record what the broker acknowledged; returns rows marked sent."""
        if self._producer is None:
            self._producer = Producer(self.kafka, client_id="spine-registry-outbox")
        producer = self._producer
        with self.db.read() as conn:
            events = [e for e in repo.pending_events(conn) if e.id not in self._in_flight]
        for event in events:
            if not self._ensure_topic(event.topic):
                break
            value = encode_event(self._schema, event.payload)
            future = producer.send(event.topic, value, key=event.key)
            self._in_flight.add(event.id)
            future.add_done_callback(functools.partial(self._settled, event.id))
        producer.poll(0.05)
        with self._lock:
            done, self._delivered = self._delivered, []
        if done:
            with self.db.write() as conn:
                repo.mark_sent(conn, done)
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + 3600
            with self.db.write() as conn:
                pruned = repo.prune_sent(conn, datetime.now(UTC) - self.keep_sent)
            if pruned:
                logger.info("pruned %d delivered schema events from the outbox", pruned)
        return len(done)

    def _settled(self, event_id: int, future: DeliveryFuture) -> None:
        error = future.exception(0)
        with self._lock:
            self._in_flight.discard(event_id)
            if error is None:
                self._delivered.append(event_id)
            else:
                logger.warning("schema event %d not delivered, will retry: %s", event_id, error)
