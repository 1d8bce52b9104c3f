"""A thin typed producer: ``send()`` returns a future, ``close()`` flushes, defaults come from config."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException, Message

from spine.kafka.config import ConfigValue, producer_config
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
        produce = self._producer.produce
        while True:
            try:
                produce(
                    topic,
                    value,
                    key,
                    partition=partition,
                    on_delivery=future._on_delivery,
                    timestamp=timestamp_ms,
                    headers=headers,
                )
                break
            except BufferError:
                # The local queue is full: serve deliveries to make room, then try again.
                self._producer.poll(_QUEUE_FULL_RETRY_S)
            except KafkaException as exc:
                raise translate(exc, f"produce to {topic}") from exc
        self._producer.poll(0)
        return future

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


__all__ = ["DeliveryFuture", "Headers", "Producer", "RecordMetadata"]
