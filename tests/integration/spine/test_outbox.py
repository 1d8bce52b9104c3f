"""The shared outbox against a real broker: a broker restart loses nothing that was still pending."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from spine.broker import EmbeddedBroker, free_port
from spine.kafka import Admin, Consumer, TopicSpec
from spine.outbox import Spool
from spine.settings import KafkaSettings

pytestmark = pytest.mark.integration


def received(kafka: KafkaSettings, topic: str, wanted: set[bytes], timeout: float = 60.0) -> list[bytes]:
    """Values read from ``topic`` (from the start) until every wanted one was seen or ``timeout``."""
    seen: list[bytes] = []
    with Consumer(kafka, f"outbox-{uuid.uuid4().hex[:8]}") as consumer:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while not wanted <= set(seen) and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                value = message.value()
                if value is not None:
                    seen.append(value)
    return seen


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_rows_enqueued_across_a_broker_kill_all_arrive_and_the_topic_is_recreated_with_its_configs(
    tmp_path: Path,
) -> None:
    port = free_port()
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{port}")
    topic = f"test.outbox.{uuid.uuid4().hex[:8]}"
    spec = TopicSpec(topic, partitions=1, config={"cleanup.policy": "compact"})
    spool = Spool(tmp_path, "restart")
    relay = spool.relay(kafka, topics={topic: spec})
    broker = EmbeddedBroker(port, log_file=tmp_path / "broker.log")
    broker.start()
    relay.start()
    written: list[bytes] = []
    stop = threading.Event()

    def produce() -> None:
        n = 0
        while not stop.is_set():
            value = f"v{n}".encode()
            spool.enqueue(topic, f"k{n % 7}", value, headers=[("spine.producer", "test")])
            written.append(value)
            relay.wake()
            n += 1
            time.sleep(0.01)

    writer = threading.Thread(target=produce)
    writer.start()
    try:
        assert wait_until(lambda: relay.published >= 20, 30), "nothing was published before the kill"
        assert broker.pid is not None
        os.kill(broker.pid, signal.SIGKILL)
        broker.stop()
        from_kill = len(written)
        time.sleep(1.0)
        broker.start()
        time.sleep(1.0)
        stop.set()
        writer.join()
        after_kill = set(written[from_kill:])
        assert wait_until(lambda: spool.stats().pending == 0, 60), spool.stats()
        values = received(kafka, topic, after_kill)
        description = Admin(kafka).describe_topic(topic)
    finally:
        stop.set()
        writer.join()
        relay.stop()
        broker.stop()
        spool.close()
    assert after_kill, "nothing was written while the broker was down"
    assert after_kill <= set(values), f"missing {sorted(after_kill - set(values))[:5]}"
    assert description.partitions == 1
    assert description.config.get("cleanup.policy") == "compact"


def test_a_spool_written_while_the_broker_is_down_is_drained_once_it_is_up(tmp_path: Path) -> None:
    port = free_port()
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{port}")
    topic = f"test.spool.{uuid.uuid4().hex[:8]}"
    spool = Spool(tmp_path, "cli")
    for n in range(5):
        spool.enqueue(topic, None, f"s{n}".encode())
    assert spool.drain(kafka, timeout=2) == 5
    spool.close()
    assert (tmp_path / "spool" / "cli.db").is_file()
    with EmbeddedBroker(port, log_file=tmp_path / "broker.log"):
        again = Spool(tmp_path, "cli")
        try:
            assert again.drain(kafka, timeout=30) == 0
            values = received(kafka, topic, {f"s{n}".encode() for n in range(5)})
        finally:
            again.close()
    assert values == [f"s{n}".encode() for n in range(5)]
