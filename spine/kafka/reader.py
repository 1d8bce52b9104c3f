"""Read a whole topic from the beginning to its current end, without joining a consumer group.

For verifiers and tools that need "everything published so far": partitions are assigned (no group join, no
committed offsets, nothing left behind), and the end is where the broker reports end-of-partition, not a
"latest offset" query (which some Kafka-protocol brokers answer wrongly).
"""

from __future__ import annotations

import logging
import time
import uuid

import confluent_kafka
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from spine.kafka.config import consumer_config
from spine.kafka.errors import KafkaUnavailableError, from_kafka_error, translate
from spine.settings import KafkaSettings

logger = logging.getLogger(__name__)


def read_topic(
    settings: KafkaSettings, topic: str, *, client_id: str = "spine-reader", timeout: float = 15.0
) -> list[Message]:
    """Every record of ``topic`` in partition then offset order; [] when the topic does not exist.

    Raises :class:`KafkaUnavailableError` when the broker does not answer, or the end of every partition
    was not reached within ``timeout`` seconds.
    """
    group = f"{client_id}-{uuid.uuid4().hex[:12]}"  # required by the client; never joined or committed
    overrides = {"enable.partition.eof": True, "enable.auto.commit": False}
    consumer = confluent_kafka.Consumer(consumer_config(settings, client_id, group, overrides))
    try:
        try:
            metadata = consumer.list_topics(topic, timeout=timeout)
        except KafkaException as exc:
            raise translate(exc, f"read topic {topic}") from exc
        found = metadata.topics.get(topic)
        if found is None or (
            found.error is not None and found.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART
        ):
            return []
        if found.error is not None:
            raise from_kafka_error(found.error, f"read topic {topic}")
        partitions = sorted(found.partitions)
        consumer.assign([TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING) for p in partitions])
        return _drain(consumer, topic, set(partitions), time.monotonic() + timeout, timeout)
    finally:
        consumer.close()


def _drain(
    consumer: confluent_kafka.Consumer, topic: str, open_partitions: set[int], deadline: float, timeout: float
) -> list[Message]:
    by_partition: dict[int, list[Message]] = {p: [] for p in open_partitions}
    while open_partitions:
        if time.monotonic() > deadline:
            raise KafkaUnavailableError(
                f"read topic {topic}: the end of partitions {sorted(open_partitions)} was not reached "
                f"within {timeout:g}s"
            )
        try:
            msg = consumer.poll(0.5)
        except KafkaException as exc:
            raise translate(exc, f"read topic {topic}") from exc
        if msg is None:
            continue
        err = msg.error()
        if err is not None and err.code() == KafkaError._PARTITION_EOF:
            open_partitions.discard(msg.partition() or 0)
        elif err is not None:
            raise from_kafka_error(err, f"read topic {topic}")
        else:
            by_partition[msg.partition() or 0].append(msg)
    return [msg for p in sorted(by_partition) for msg in by_partition[p]]


__all__ = ["read_topic"]
