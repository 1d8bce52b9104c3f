"""The lineage consumer outlives a broker restart that forgets every topic and committed offset (Tansu).

Nothing but the service itself recreates ``_spine.lineage`` here, and more records are written after the
restart than the consumer's old positions: the new topic must be read from its beginning, none skipped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spine.broker import EmbeddedBroker, free_port
from spine.kafka import Admin, Producer
from spine.settings import KafkaSettings
from spine.topics import LINEAGE
from tests.integration.lineage.service import Lineage, start_lineage
from tests.unit.lineage.events import run_event

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BEFORE = 400
AFTER = 600


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    own = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    own.start()
    try:
        yield own
    finally:
        own.stop()


def stored(service: Lineage) -> int:
    response = service.get("/api/v1/events/lineage", params={"limit": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["totalCount"])


def wait_stored(service: Lineage, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (found := stored(service)) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def send(kafka: KafkaSettings, start: int, stop: int) -> None:
    with Producer(kafka) as producer:
        for i in range(start, stop):
            event = run_event(f"job-{i % 20}")
            producer.send(LINEAGE, json.dumps(event).encode(), f"key-{i}".encode())


def topic_exists(kafka: KafkaSettings) -> bool:
    return LINEAGE in Admin(kafka).list_topics()


def test_consumer_recreates_its_topic_and_reads_it_from_the_start_after_a_broker_restart(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    kafka = KafkaSettings(bootstrap=broker.bootstrap)
    service = start_lineage(tmp_path / "service", kafka=kafka)
    try:
        deadline = time.monotonic() + 20
        while not topic_exists(kafka):
            assert time.monotonic() < deadline, "the consumer did not create its topic"
            time.sleep(0.2)
        send(kafka, 0, BEFORE)
        assert wait_stored(service, BEFORE, timeout=30) == BEFORE

        broker.stop()
        time.sleep(3.0)
        broker.start()
        deadline = time.monotonic() + 30
        while not topic_exists(kafka):
            assert time.monotonic() < deadline, "the consumer did not recreate its topic after the restart"
            time.sleep(0.2)
        send(kafka, BEFORE, BEFORE + AFTER)
        assert wait_stored(service, BEFORE + AFTER, timeout=30) == BEFORE + AFTER
    finally:
        service.stop()
