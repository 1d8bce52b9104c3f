from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest

from spine.headers import SpineHeaders
from spine.kafka import Admin, Consumer, Producer, TopicSpec
from spine.settings import KafkaSettings
from tests.fixtures.kafka import TopicFactory

pytestmark = pytest.mark.integration

RECORDS = 10_000
KEYS = 64


def _drain(consumer: Consumer, seen: list[tuple[str, int]], limit: int, idle_rounds: int = 20) -> None:
    idle = 0
    while len(seen) < limit and idle < idle_rounds:
        batch = consumer.consume(min(500, limit - len(seen)), timeout=0.5)
        if not batch:
            idle += 1
            continue
        idle = 0
        for msg in batch:
            key = (msg.key() or b"").decode()
            seen.append((key, int((msg.value() or b"").decode().split(":")[1])))
        consumer.commit(batch)


def test_keyed_records_arrive_exactly_once_in_key_order_across_a_consumer_restart(
    kafka_settings: KafkaSettings, topic_factory: TopicFactory, group_factory: Callable[[], str]
) -> None:
    topic = topic_factory(partitions=4)
    group = group_factory()
    with Producer(kafka_settings) as producer:
        futures = [producer.send(topic, f"k{i % KEYS}:{i}", f"k{i % KEYS}") for i in range(RECORDS)]
        producer.flush()
    assert all(f.exception(0) is None for f in futures)

    seen: list[tuple[str, int]] = []
    first = Consumer(kafka_settings, group)
    first.subscribe([topic])
    _drain(first, seen, RECORDS // 2)
    first.close()
    assert RECORDS // 2 <= len(seen) < RECORDS

    second = Consumer(kafka_settings, group)
    second.subscribe([topic])
    _drain(second, seen, RECORDS)
    second.close()

    assert len(seen) == RECORDS
    assert len(set(seen)) == RECORDS
    per_key: dict[str, list[int]] = defaultdict(list)
    for key, seq in seen:
        per_key[key].append(seq)
    assert len(per_key) == KEYS
    for key, seqs in per_key.items():
        assert seqs == sorted(seqs), f"records of {key} arrived out of order"


def test_send_future_reports_where_the_record_landed_and_headers_survive(
    kafka_settings: KafkaSettings, topic_factory: TopicFactory, group_factory: Callable[[], str]
) -> None:
    topic = topic_factory()
    headers = SpineHeaders(schema_id=7, producer="orders-svc", residency="eu-west", trace_id="abc")
    with Producer(kafka_settings) as producer:
        meta = producer.send(topic, b"v", b"k", headers=headers.to_kafka()).result(timeout=10)
    assert (meta.topic, meta.partition, meta.offset) == (topic, 0, 0)
    with Consumer(kafka_settings, group_factory()) as consumer:
        consumer.subscribe([topic])
        msg = None
        for _ in range(40):
            msg = consumer.poll(0.5)
            if msg is not None:
                break
    assert msg is not None
    assert SpineHeaders.from_kafka(msg.headers()) == headers


def test_admin_creates_topics_with_their_configs_and_is_idempotent(
    kafka_settings: KafkaSettings, kafka_admin: Admin, topic_factory: TopicFactory
) -> None:
    topic = topic_factory(partitions=3, config={"cleanup.policy": "compact"})
    kafka_admin.create_topics([TopicSpec(topic, partitions=3, config={"cleanup.policy": "compact"})])
    description = kafka_admin.describe_topic(topic)
    assert description.partitions == 3
    assert description.config["cleanup.policy"] == "compact"
    assert topic in kafka_admin.list_topics()
