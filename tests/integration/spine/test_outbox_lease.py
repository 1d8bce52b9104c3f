"""Several relays over one outbox: one sends, the others stand by and take over when it goes.

Against a real broker, a SQLite file and a real PostgreSQL database. Without the lease every relay sent
every row (once per process, and possibly out of order per key).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from spine.kafka import Consumer
from spine.outbox import OUTBOX, OutboxRelay, enqueue, outbox_table, stats
from spine.outbox.lease import RelayLease
from spine.settings import KafkaSettings

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., str]


def read_all(kafka: KafkaSettings, topic: str, expected: int, timeout: float = 30.0) -> list[bytes]:
    """Every value on ``topic`` once ``expected`` arrived, plus whatever else comes within 2 s after."""
    values: list[bytes] = []
    with Consumer(kafka, f"lease-{uuid.uuid4().hex[:8]}") as consumer:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        quiet_until: float | None = None
        while time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.3):
                value = message.value()
                if value is not None:
                    values.append(value)
            if len(values) >= expected:
                quiet_until = quiet_until or time.monotonic() + 2.0
                if time.monotonic() > quiet_until:
                    break
    return values


def fill(engine: sa.engine.Engine, topic: str, start: int, count: int) -> list[bytes]:
    values = [f"r{n}".encode() for n in range(start, start + count)]
    with engine.begin() as conn:
        for n, value in enumerate(values, start):
            enqueue(conn, topic, f"k{n % 5}", value)
    return values


def wait_drained(
    engine: sa.engine.Engine, relays: list[OutboxRelay], sent: int, timeout: float = 30.0
) -> None:
    """Until the outbox is empty and the relays counted ``sent`` rows in all (a relay removes the rows
    it sent, then counts them: the outbox can be empty a moment before the count is)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if stats(conn).pending == 0 and sum(r.published for r in relays) >= sent:
                return
        time.sleep(0.1)
    raise AssertionError("the outbox was not drained")


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'outbox.db'}"
    factory: Callable[[], str] = request.getfixturevalue("database_factory")
    return factory()


def test_two_relays_over_one_outbox_send_each_row_once_and_the_second_takes_over(
    outbox_url: str, kafka_settings: KafkaSettings, topic_factory: TopicFactory
) -> None:
    topic = topic_factory()
    engines = [sa.create_engine(outbox_url) for _ in range(2)]
    outbox_table(sa.MetaData()).metadata.create_all(engines[0])
    relays = [OutboxRelay(e, kafka_settings, name=f"lease-{i}", idle_s=0.2) for i, e in enumerate(engines)]
    try:
        for relay in relays:
            relay.start()
        first = fill(engines[0], topic, 0, 200)
        wait_drained(engines[0], relays, len(first))
        leaders = [r for r in relays if r.published]
        assert len(leaders) == 1, [r.published for r in relays]
        leader = leaders[0]
        standby = relays[1 - relays.index(leader)]
        leader.stop()
        second = fill(engines[1], topic, 200, 100)
        wait_drained(engines[1], relays, len(first) + len(second))
        values = read_all(kafka_settings, topic, len(first) + len(second))
    finally:
        for relay in relays:
            relay.stop()
        for engine in engines:
            engine.dispose()
    assert standby.published == len(second)
    counts = Counter(values)
    assert set(counts) == set(first + second)
    assert max(counts.values()) == 1, [v for v, n in counts.items() if n > 1][:5]


LEADER = """
import sys, time
import sqlalchemy as sa
from spine.outbox.lease import RelayLease
lease = RelayLease(sa.create_engine(sys.argv[1]), name="child")
assert lease.held()
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_lease_holder_frees_the_lease_at_once(outbox_url: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", LEADER, outbox_url], stdout=subprocess.PIPE, text=True)
    engine = sa.create_engine(outbox_url)
    lease = RelayLease(engine, name="here")
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        assert not lease.held(), "two processes held the lease"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        deadline = time.monotonic() + 10
        while not lease.held():
            assert time.monotonic() < deadline, "the lease stayed taken after its holder was killed"
            time.sleep(0.1)
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
        lease.release()
        engine.dispose()


def test_an_in_memory_outbox_always_holds_its_lease() -> None:
    engine = sa.create_engine("sqlite://")
    OUTBOX.metadata.create_all(engine)
    assert RelayLease(engine, name="a").held()
    assert RelayLease(engine, name="b").held()
