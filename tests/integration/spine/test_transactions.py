"""``TransactionalProducer`` on the real broker (Tansu): records and a group's offsets commit together.

Tansu shows aborted records to ``read_committed`` readers (DESIGN.md), so these tests check what it does
implement: a commit carries the offsets, an abort carries none, and a producer killed inside a transaction
is fenced by the next one with its id, whose group resumes after the last committed batch. That aborted
records stay invisible needs Apache Kafka (docker compose).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable

import confluent_kafka
import pytest
from confluent_kafka import Message, TopicPartition

from spine.kafka import Consumer, Producer, TransactionalProducer, read_topic
from spine.kafka.config import consumer_config
from spine.kafka.consumer import next_offsets
from spine.settings import KafkaSettings
from tests.fixtures.kafka import TopicFactory

pytestmark = pytest.mark.integration


def _fill(settings: KafkaSettings, topic: str, count: int) -> None:
    with Producer(settings) as producer:
        futures = [producer.send(topic, f"r{i}", f"k{i}") for i in range(count)]
        producer.flush()
    assert all(f.exception(0) is None for f in futures)


def _take(consumer: Consumer, count: int) -> list[Message]:
    taken: list[Message] = []
    for _ in range(200):
        taken += consumer.consume(count - len(taken), timeout=0.2)
        if len(taken) >= count:
            return taken
    raise AssertionError(f"only {len(taken)} of {count} records arrived")


def _committed(settings: KafkaSettings, group: str, topic: str) -> int:
    """The group's committed offset of partition 0 (-1001 when none), read without joining the group."""
    reader = confluent_kafka.Consumer(consumer_config(settings, "spine-test-offsets", group))
    try:
        (tp,) = reader.committed([TopicPartition(topic, 0)], timeout=15)
        return int(tp.offset)
    finally:
        reader.close()


def test_a_committed_transaction_carries_its_records_and_the_groups_offsets(
    kafka_settings: KafkaSettings, topic_factory: TopicFactory, group_factory: Callable[[], str]
) -> None:
    source, sink, group = topic_factory(), topic_factory(), group_factory()
    _fill(kafka_settings, source, 10)
    consumer = Consumer(kafka_settings, group)
    consumer.subscribe([source])
    producer = TransactionalProducer(kafka_settings, f"test-tx-{uuid.uuid4().hex[:8]}")
    try:
        batch = _take(consumer, 10)
        producer.begin()
        for msg in batch:
            producer.send(sink, msg.value(), msg.key())
        producer.commit(next_offsets(batch), consumer.group_metadata())
        assert not producer.in_transaction
    finally:
        producer.close()
        consumer.close()
    assert _committed(kafka_settings, group, source) == 10
    assert [m.value() for m in read_topic(kafka_settings, sink)] == [f"r{i}".encode() for i in range(10)]


def test_an_aborted_transaction_commits_none_of_its_offsets(
    kafka_settings: KafkaSettings, topic_factory: TopicFactory, group_factory: Callable[[], str]
) -> None:
    source, sink, group = topic_factory(), topic_factory(), group_factory()
    _fill(kafka_settings, source, 10)
    consumer = Consumer(kafka_settings, group)
    consumer.subscribe([source])
    producer = TransactionalProducer(kafka_settings, f"test-tx-{uuid.uuid4().hex[:8]}")
    try:
        first = _take(consumer, 5)
        producer.begin()
        producer.send(sink, b"committed")
        producer.commit(next_offsets(first), consumer.group_metadata())
        second = _take(consumer, 5)
        producer.begin()
        producer.send(sink, b"aborted")
        # Offsets sent but the transaction never committed: the group must stay after the first batch.
        producer.add_offsets(next_offsets(second), consumer.group_metadata())
        producer.abort()
        assert not producer.in_transaction
    finally:
        producer.close()
        consumer.close()
    assert _committed(kafka_settings, group, source) == 5


KILLED_CHILD = textwrap.dedent(
    """
    import sys, time
    from spine.kafka import Consumer, TransactionalProducer
    from spine.kafka.consumer import next_offsets
    from spine.settings import KafkaSettings

    bootstrap, source, sink, group, txid = sys.argv[1:]
    settings = KafkaSettings(bootstrap=bootstrap)
    consumer = Consumer(settings, group)
    consumer.subscribe([source])
    producer = TransactionalProducer(settings, txid)
    batches = 0
    while batches < 2:
        batch = consumer.consume(4, timeout=0.5)
        if len(batch) == 0:
            continue
        producer.begin()
        for msg in batch:
            producer.send(sink, msg.value(), msg.key())
        producer.flush()
        if batches == 0:
            producer.commit(next_offsets(batch), consumer.group_metadata())
            print(f"committed {next_offsets(batch)[0].offset}", flush=True)
        else:
            producer.add_offsets(next_offsets(batch), consumer.group_metadata())
        batches += 1
    print("in a transaction", flush=True)
    time.sleep(600)
    """
)


def test_a_producer_killed_in_a_transaction_is_fenced_and_the_group_resumes_after_the_committed_batch(
    kafka_settings: KafkaSettings, topic_factory: TopicFactory, group_factory: Callable[[], str]
) -> None:
    source, sink, group = topic_factory(), topic_factory(), group_factory()
    txid = f"test-tx-{uuid.uuid4().hex[:8]}"
    _fill(kafka_settings, source, 20)
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD, str(kafka_settings.bootstrap), source, sink, group, txid],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        committed_line = child.stdout.readline()
        assert committed_line.startswith("committed "), committed_line
        committed = int(committed_line.split()[1])
        assert child.stdout.readline().strip() == "in a transaction"
    finally:
        child.kill()  # SIGKILL: its second transaction is left open
        child.communicate(timeout=30)
    assert 0 < committed <= 4
    # The next producer with the id fences the dead one and aborts its transaction as it starts.
    TransactionalProducer(kafka_settings, txid).close()
    assert _committed(kafka_settings, group, source) == committed
    consumer = Consumer(kafka_settings, group)
    consumer.subscribe([source])
    try:
        resumed = _take(consumer, 20 - committed)
    finally:
        consumer.close()
    assert [m.offset() for m in resumed] == list(range(committed, 20))
