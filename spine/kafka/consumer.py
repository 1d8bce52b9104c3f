"""A thin typed consumer: subscribe, poll or consume batches, commit explicitly, close."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Self

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from spine.kafka.config import ConfigValue, consumer_config
from spine.kafka.errors import from_kafka_error, translate
from spine.settings import KafkaSettings

logger = logging.getLogger(__name__)

_DISCONNECTED = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN}

RebalanceCallback = Callable[[confluent_kafka.Consumer, list[TopicPartition]], None]


class Consumer:
    """A consumer-group member. Offsets are committed only when ``commit`` is called."""

    def __init__(
        self,
        settings: KafkaSettings,
        group_id: str,
        *,
        client_id: str = "spine-consumer",
        overrides: Mapping[str, ConfigValue] | None = None,
    ) -> None:
        conf = consumer_config(settings, client_id, group_id, overrides)
        self._consumer = confluent_kafka.Consumer(conf)
        self.group_id = group_id
        self._closed = False
        # Set when the client reports losing its brokers; the owner clears it once it has checked that
        # its topics survived (a broker that keeps no state forgets topics and offsets on restart).
        self.disconnected = False

    def subscribe(
        self,
        topics: Sequence[str],
        *,
        on_assign: RebalanceCallback | None = None,
        on_revoke: RebalanceCallback | None = None,
    ) -> None:
        kwargs: dict[str, RebalanceCallback] = {}
        if on_assign is not None:
            kwargs["on_assign"] = on_assign
        if on_revoke is not None:
            kwargs["on_revoke"] = on_revoke
        self._consumer.subscribe(list(topics), **kwargs)

    def poll(self, timeout: float = 1.0) -> Message | None:
        """One record, or None when nothing arrived within ``timeout``."""
        try:
            msg = self._consumer.poll(timeout)
        except KafkaException as exc:
            raise translate(exc, "poll") from exc
        if msg is None:
            return None
        return msg if self._usable(msg) else None

    def consume(self, max_records: int = 500, timeout: float = 1.0) -> list[Message]:
        """Up to ``max_records`` records, waiting at most ``timeout`` for the first."""
        try:
            batch = self._consumer.consume(max_records, timeout)
        except KafkaException as exc:
            raise translate(exc, "consume") from exc
        return [m for m in batch if m.error() is None or self._usable(m)]

    def commit(
        self, processed: Message | Sequence[Message] | None = None, *, asynchronous: bool = False
    ) -> None:
        """Commit the position after ``processed`` (one record or a batch, every partition in it),
        or after everything consumed so far when ``processed`` is None."""
        if processed is None:
            self._commit(None, asynchronous)
            return
        offsets = next_offsets([processed] if isinstance(processed, Message) else processed)
        if offsets:
            self._commit(offsets, asynchronous)

    def group_metadata(self) -> object:
        """The group's metadata, for a transactional producer's ``send_offsets_to_transaction``."""
        return self._consumer.consumer_group_metadata()

    def _commit(self, offsets: list[TopicPartition] | None, asynchronous: bool) -> None:
        try:
            if offsets is None and asynchronous:
                self._consumer.commit(asynchronous=True)
            elif offsets is None:
                self._consumer.commit(asynchronous=False)
            elif asynchronous:
                self._consumer.commit(offsets=offsets, asynchronous=True)
            else:
                self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if isinstance(err, KafkaError) and err.code() == KafkaError._NO_OFFSET:
                return  # nothing consumed since the last commit
            raise translate(exc, "commit") from exc

    def assignment(self) -> list[TopicPartition]:
        return list(self._consumer.assignment())

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._consumer.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _usable(self, msg: Message) -> bool:
        err = msg.error()
        if err is None:
            return True
        if err.code() == KafkaError._PARTITION_EOF:
            return False
        if err.code() in _DISCONNECTED:
            self.disconnected = True
        if err.fatal():
            raise from_kafka_error(err, "consume")
        logger.warning("consumer: %s", err.str())
        return False


def next_offsets(batch: Sequence[Message]) -> list[TopicPartition]:
    """The position after ``batch`` on every partition it holds (what a commit of the batch stores)."""
    offsets: dict[tuple[str, int], int] = {}
    for msg in batch:
        key = (msg.topic() or "", msg.partition() or 0)
        offsets[key] = max(offsets.get(key, 0), (msg.offset() or 0) + 1)
    return [TopicPartition(t, p, o) for (t, p), o in offsets.items()]


__all__ = ["Consumer", "RebalanceCallback"]
