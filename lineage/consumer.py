"""The Kafka ingest: consume ``_spine.lineage``, store each batch, and only then commit its offsets.

A record that is not JSON or not a valid OpenLineage event goes to ``_spine.lineage.dlq`` with its key and
value untouched and the reason in the spine's DLQ headers; its offset is committed only once the dead
letter is acknowledged. If the database is down the batch is retried (with backoff) before anything is
committed, so a crash at any point redelivers and idempotent storage makes the redelivery harmless.

The topic's id is checked every few seconds and after every lost connection, before the batch just consumed
is stored: a broker that keeps no state (Tansu) forgets topics and committed offsets when it restarts, so a
vanished or recreated topic means starting again — recreate the topics, join the group afresh, and read the
new topic from its committed offsets (none: its beginning) instead of the old positions.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Message

from lineage.emit.emitter import lineage_topic_spec
from lineage.errors import InvalidEventError, LineageErrorCode, TopicLostError
from lineage.ingest import EventRows
from lineage.service import LineageService, prepare
from spine.errors import SpineError, UnavailableError
from spine.headers import DlqHeaders
from spine.kafka import Admin, Consumer, Producer, TopicSpec
from spine.settings import KafkaSettings
from spine.topics import LINEAGE, dlq_topic

logger = logging.getLogger(__name__)

GROUP = "spine-lineage"
DLQ = dlq_topic(LINEAGE)
BATCH = 2000
STALE_AFTER_S = 30.0
TOPIC_CHECK_S = 2.0


def decode(message: Message) -> tuple[EventRows | None, str, int]:
    """(rows, "", 0) for a valid event, else (None, reason, error code)."""
    raw = message.value()
    try:
        event = json.loads(raw if raw is not None else b"")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not JSON: {exc}", int(LineageErrorCode.MALFORMED_JSON)
    try:
        return prepare(event), "", 0
    except InvalidEventError as exc:
        return None, str(exc), int(exc.code)


class LineageConsumer:
    """A background thread feeding the store from Kafka; ``check()`` is its readiness probe."""

    def __init__(
        self,
        service: LineageService,
        kafka: KafkaSettings,
        *,
        topic: str = LINEAGE,
        group: str = GROUP,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._service = service
        self._kafka = kafka
        self.topic = topic
        self.dlq = dlq_topic(topic)
        self._group = group
        self._max_backoff = max_backoff_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lineage-consumer", daemon=True)
        self.last_poll = 0.0
        self.error: str | None = None
        self.stored = 0
        self.dead_letters = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def check(self) -> None:
        if not self._thread.is_alive():
            raise UnavailableError(
                f"lineage consumer of {self.topic} is not running: {self.error or 'stopped'}"
            )
        if self.error is not None:
            raise UnavailableError(f"lineage consumer of {self.topic}: {self.error}")
        if self.last_poll and time.monotonic() - self.last_poll > STALE_AFTER_S:
            raise UnavailableError(
                f"lineage consumer of {self.topic} has not polled for {STALE_AFTER_S:.0f}s"
            )

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._consume()
                return
            except SpineError as exc:
                self.error = str(exc)
                logger.warning("lineage consumer failed (%s); restarting in %.1fs", exc, backoff)
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {exc}"
                logger.exception("lineage consumer crashed; restarting in %.1fs", backoff)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    def _consume(self) -> None:
        admin = Admin(self._kafka, client_id="spine-lineage-admin")
        admin.create_topics([lineage_topic_spec(self.topic), TopicSpec(self.dlq, partitions=1)])
        topic_id = admin.topic_id(self.topic)
        producer = Producer(self._kafka, client_id="spine-lineage-dlq")
        consumer = Consumer(self._kafka, self._group, client_id="spine-lineage")
        try:
            consumer.subscribe([self.topic])
            next_check = time.monotonic() + TOPIC_CHECK_S
            while not self._stop.is_set():
                self.last_poll = time.monotonic()
                batch = consumer.consume(BATCH, 0.5)
                if consumer.disconnected or self.last_poll >= next_check:
                    self._check_topic(admin, topic_id)
                    consumer.disconnected = False
                    next_check = time.monotonic() + TOPIC_CHECK_S
                self.error = None
                if batch:
                    self._handle(batch, producer)
                    consumer.commit(batch)
        finally:
            consumer.close()
            producer.close(5.0)

    def _check_topic(self, admin: Admin, topic_id: str | None) -> None:
        """Raise :class:`TopicLostError` (the batch in hand is neither stored nor committed) when the topic
        is not the one this consumer subscribed to."""
        now = admin.topic_id(self.topic, timeout=5.0)
        if now != topic_id:
            what = "vanished" if now is None else "was recreated"
            raise TopicLostError(f"topic {self.topic} {what}; subscribing again from its committed offsets")

    def _handle(self, batch: Sequence[Message], producer: Producer) -> None:
        valid: list[EventRows] = []
        futures: list[Any] = []
        for message in batch:
            rows, reason, code = decode(message)
            if rows is not None:
                valid.append(rows)
                continue
            logger.warning(
                "dead-lettering %s[%s]@%s: %s", message.topic(), message.partition(), message.offset(), reason
            )
            now_ms = int(time.time() * 1000)
            headers = DlqHeaders(
                reason=reason,
                error_code=str(code),
                origin="lineage-service",
                stage="ingest",
                first_failure_ms=now_ms,
                last_failure_ms=now_ms,
                origin_topic=message.topic() or self.topic,
                origin_partition=message.partition(),
                origin_offset=message.offset(),
            ).attach(message.headers())
            futures.append(producer.send(self.dlq, message.value(), message.key(), headers=headers))
        backoff = 0.2
        while valid:
            try:
                self.stored += self._service.store(valid).stored
                break
            except UnavailableError as exc:
                if self._stop.is_set():
                    raise
                self.error = str(exc)
                logger.warning("storing %d lineage events failed (%s); retrying", len(valid), exc)
                time.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
        for future in futures:
            future.result(30.0)  # raises: the batch is not committed and comes back after restart
        self.dead_letters += len(futures)


__all__ = ["DLQ", "GROUP", "LineageConsumer", "decode"]
