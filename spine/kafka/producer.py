"""A thin typed producer: ``send()`` returns a future, ``close()`` flushes, defaults come from config."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from spine.kafka.config import PRODUCER_DEFAULTS, ConfigValue, producer_config
from spine.kafka.errors import KafkaClientError, KafkaUnavailableError, from_kafka_error, translate
from spine.settings import KafkaSettings

logger = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]] | dict[str, str | bytes | None]
_QUEUE_FULL_RETRY_S = 0.05


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where a record landed."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int


class DeliveryFuture:
    """The outcome of one ``send``. Waiting on it serves the producer's delivery callbacks.

    Deliberately lighter than ``concurrent.futures.Future`` (no lock, no condition variable): callbacks
    fire on whichever thread polls the producer, and ``result()`` polls until this record is settled.
    """

    __slots__ = ("_callbacks", "_done", "_error", "_message", "_producer")

    def __init__(self, producer: Producer) -> None:
        self._producer = producer
        self._done = False
        self._error: KafkaError | None = None
        self._message: Message | None = None
        self._callbacks: list[Callable[[DeliveryFuture], None]] | None = None

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        self._error = err
        self._message = msg
        self._done = True
        if self._callbacks:
            for callback in self._callbacks:
                try:
                    callback(self)
                except Exception:
                    logger.exception("delivery callback raised")

    def done(self) -> bool:
        return self._done

    def add_done_callback(self, callback: Callable[[DeliveryFuture], None]) -> None:
        if self._done:
            callback(self)
            return
        if self._callbacks is None:
            self._callbacks = []
        self._callbacks.append(callback)

    def exception(self, timeout: float | None = None) -> KafkaClientError | None:
        self._wait(timeout)
        if self._error is None:
            return None
        topic = self._message.topic() if self._message is not None else "?"
        return from_kafka_error(self._error, f"deliver to {topic}")

    def result(self, timeout: float | None = None) -> RecordMetadata:
        error = self.exception(timeout)
        if error is not None:
            raise error
        msg = self._message
        assert msg is not None
        _, ts = msg.timestamp()
        return RecordMetadata(msg.topic() or "", msg.partition() or 0, msg.offset() or 0, ts)

    def _wait(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done:
            remaining = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if remaining <= 0:
                raise KafkaUnavailableError("record not delivered within the timeout", code="_TIMED_OUT")
            self._producer.poll(remaining)


class Producer:
    """Produce records; every record's fate is reported through the future ``send`` returns."""

    def __init__(
        self,
        settings: KafkaSettings,
        *,
        client_id: str = "spine-producer",
        overrides: Mapping[str, ConfigValue] | None = None,
        on_error: Callable[[KafkaClientError], None] | None = None,
    ) -> None:
        """``on_error`` hears client-level errors (all brokers down, fatal idempotence errors)."""
        conf = producer_config(settings, client_id, overrides)
        conf["error_cb"] = self._on_client_error
        self._on_error = on_error
        self._producer = confluent_kafka.Producer(conf)
        self._closed = False

    def send(
        self,
        topic: str,
        value: bytes | str | None,
        key: bytes | str | None = None,
        *,
        headers: Headers | None = None,
        partition: int = -1,
        timestamp_ms: int = 0,
    ) -> DeliveryFuture:
        """Queue one record; the returned future settles when the broker acknowledges it or it fails."""
        future = DeliveryFuture(self)
        self._produce(
            topic, value, key, on_delivery=future._on_delivery, partition=partition, timestamp=timestamp_ms,
            headers=headers,
        )  # fmt: skip
        self._producer.poll(0)
        return future

    def _produce(self, topic: str, value: bytes | str | None, key: bytes | str | None, **kwargs: Any) -> None:
        """One ``produce``; while the local queue is full, serve deliveries to make room and try again."""
        while True:
            try:
                self._producer.produce(topic, value, key, **kwargs)
                return
            except BufferError:
                self._producer.poll(_QUEUE_FULL_RETRY_S)
            except KafkaException as exc:
                raise translate(exc, f"produce to {topic}") from exc

    def send_all(
        self, records: Iterable[tuple[str, bytes | str | None, bytes | str | None]], timeout: float = 30.0
    ) -> int:
        """Queue ``(topic, value, key)`` records and wait until the broker acknowledged every one; raise
        the first failure. Lighter than a future per record, for callers that need the whole batch."""
        failures: list[tuple[KafkaError, Message]] = []

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is not None and not failures:
                failures.append((err, msg))

        count = 0
        for topic, value, key in records:
            self._produce(topic, value, key, on_delivery=on_delivery)
            count += 1
        self.flush(timeout)
        if failures:
            err, msg = failures[0]
            raise from_kafka_error(err, f"deliver to {msg.topic()}")
        return count

    def poll(self, timeout: float = 0.0) -> int:
        """Serve delivery callbacks; returns how many fired."""
        return self._producer.poll(timeout)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued record is settled; raise if some are still in flight after ``timeout``."""
        remaining = self._producer.flush(timeout)
        if remaining:
            raise KafkaUnavailableError(
                f"{remaining} record(s) still undelivered after {timeout:.0f}s", code="_TIMED_OUT"
            )

    def abandon(self) -> None:
        """Drop every queued and in-flight record (their futures fail) without waiting for the broker."""
        self._closed = True
        self._producer.purge()
        self._producer.poll(0)

    def close(self, timeout: float = 30.0) -> None:
        if self._closed:
            return
        self._closed = True
        self.flush(timeout)

    def __len__(self) -> int:
        return len(self._producer)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _on_client_error(self, err: KafkaError) -> None:
        if err.fatal():
            logger.error("producer fatal error: %s", err.str())
        else:
            logger.debug("producer transient error: %s", err.str())
        if self._on_error is not None:
            self._on_error(from_kafka_error(err, "producer"))


class TransactionalProducer(Producer):
    """A producer whose records become visible together with a consumer group's offsets, or not at all.

    Per batch: :meth:`begin`, ``send`` its records, then :meth:`commit` with the offsets after the batch
    (``Consumer.group_metadata()`` and ``spine.kafka.consumer.next_offsets``): records and offsets commit in
    one transaction. On any failure call :meth:`abort`. Starting fences an earlier producer with the same
    ``transactional_id`` (a killed process) and aborts its open transaction, so a restart resumes after the
    last committed batch. Read-committed consumers never see aborted records on Apache Kafka; Tansu shows
    them (``DESIGN.md``), so there only the commit path is exactly once. Also seen on Tansu (2 runs in 5 of
    a pipeline killed inside a transaction): the group's offsets later back at what the fenced transaction
    had added, so a second restart may re-read; Apache Kafka discards a fenced transaction's offsets.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        transactional_id: str,
        *,
        client_id: str | None = None,
        overrides: Mapping[str, ConfigValue] | None = None,
        on_error: Callable[[KafkaClientError], None] | None = None,
        timeout: float = 30.0,
    ) -> None:
        # librdkafka needs transaction.timeout.ms >= message.timeout.ms (PRODUCER_DEFAULTS: 120 s).
        timeouts = {"transaction.timeout.ms": PRODUCER_DEFAULTS["message.timeout.ms"]}
        conf = {**timeouts, **(overrides or {}), "transactional.id": transactional_id}
        super().__init__(settings, client_id=client_id or transactional_id, overrides=conf, on_error=on_error)
        self.transactional_id = transactional_id
        self._open = False
        try:
            self._producer.init_transactions(timeout)
        except KafkaException as exc:
            raise translate(exc, f"start transactions as {transactional_id}") from exc

    @property
    def in_transaction(self) -> bool:
        return self._open

    def begin(self) -> None:
        """Start a transaction (no-op when one is open)."""
        if self._open:
            return
        try:
            self._producer.begin_transaction()
        except KafkaException as exc:
            raise translate(exc, f"begin a transaction as {self.transactional_id}") from exc
        self._open = True

    def commit(
        self,
        offsets: Sequence[TopicPartition] = (),
        group_metadata: object | None = None,
        timeout: float = 30.0,
    ) -> None:
        """Deliver every record of the transaction, add the group's ``offsets`` to it, and commit it.

        Raises when it cannot; the caller then calls :meth:`abort` (nothing of the transaction is committed).
        """
        if not self._open:
            self.begin()
        if offsets:
            self.add_offsets(offsets, group_metadata, timeout)
        try:
            self._producer.commit_transaction(timeout)
        except KafkaException as exc:
            raise translate(exc, f"commit the transaction of {self.transactional_id}") from exc
        self._open = False

    def add_offsets(
        self, offsets: Sequence[TopicPartition], group_metadata: object, timeout: float = 30.0
    ) -> None:
        """Make the group's ``offsets`` part of the open transaction (committed only with it)."""
        try:
            self._producer.send_offsets_to_transaction(list(offsets), group_metadata, timeout)
        except KafkaException as exc:
            raise translate(exc, f"add offsets to the transaction of {self.transactional_id}") from exc

    def abort(self, timeout: float = 30.0) -> None:
        """Abort the open transaction: its records are not committed, nor its offsets. Never raises: when
        the broker cannot be told, the next producer with this id aborts it as it starts."""
        if not self._open:
            return
        self._open = False
        try:
            self._producer.abort_transaction(timeout)
        except KafkaException as exc:
            logger.warning("aborting the transaction of %s failed: %s", self.transactional_id, exc)

    def close(self, timeout: float = 30.0) -> None:
        """Abort a transaction still open (it was never committed), then close."""
        if self._closed:
            return
        self.abort(timeout)
        self._closed = True


__all__ = ["DeliveryFuture", "Headers", "Producer", "RecordMetadata", "TransactionalProducer"]
