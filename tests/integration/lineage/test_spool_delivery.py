"""Acceptance: 10,000 events from a child process through the spool survive a 30 s broker outage.

Tansu keeps records in memory, so what reached the broker before it stops is read before stopping it; the
rest (emitted while it is down and after it is back) must arrive after the restart. Deduplicated by (run id,
eventType, eventTime), the union is exactly the 10,000 events emitted.

A lineage service consumes ``_spine.lineage`` throughout, across the restart (which loses the topic and the
group's committed offsets); read back through its API, it has stored every one of the 10,000 events once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spine.broker import EmbeddedBroker, free_port
from spine.kafka import read_topic
from spine.settings import KafkaSettings
from spine.topics import LINEAGE
from tests.integration.lineage.service import Lineage, start_lineage
from tests.integration.lineage.spool_child import PHASES, TOTAL, identity

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]
OUTAGE_S = 30.0
PAGE = 2_500

Identity = tuple[str, str, str]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of this test's own: it is stopped and started again on the same port."""
    own = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    own.start()
    try:
        yield own
    finally:
        own.stop()


def seen_on_topic(kafka: KafkaSettings) -> tuple[set[Identity], int]:
    """Distinct (run id, eventType, eventTime) on ``_spine.lineage``, and the number of records."""
    records = read_topic(kafka, LINEAGE, timeout=20.0)
    found: set[Identity] = set()
    for record in records:
        event = json.loads(record.value() or b"")
        assert record.key() == event["run"]["runId"].encode()
        found.add((event["run"]["runId"], event["eventType"], event["eventTime"]))
    return found, len(records)


def wait_for(kafka: KafkaSettings, count: int, timeout: float) -> set[Identity]:
    deadline = time.monotonic() + timeout
    found: set[Identity] = set()
    while time.monotonic() < deadline:
        found, _ = seen_on_topic(kafka)
        if len(found) >= count:
            break
        time.sleep(0.5)
    return found


@pytest.fixture
def service(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[Lineage]:
    """A lineage service whose consumer reads ``_spine.lineage`` from this test's broker."""
    running = start_lineage(tmp_path / "service", kafka=KafkaSettings(bootstrap=broker.bootstrap))
    try:
        yield running
    finally:
        running.stop()


def stored_count(service: Lineage) -> int:
    response = service.get("/api/v1/events/lineage", params={"limit": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["totalCount"])


def wait_stored(service: Lineage, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    stored = stored_count(service)
    while stored < count and time.monotonic() < deadline:
        time.sleep(0.5)
        stored = stored_count(service)
    return stored


def stored_identities(service: Lineage) -> list[Identity]:
    """Every stored event's (run id, eventType, eventTime), paging the read API oldest first."""
    found: list[Identity] = []
    total = stored_count(service)
    for offset in range(0, total, PAGE):
        params = {"limit": PAGE, "offset": offset, "sortDirection": "asc"}
        response = service.get("/api/v1/events/lineage", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["totalCount"] == total
        found += [(e["run"]["runId"], e["eventType"], e["eventTime"]) for e in page["events"]]
    return found


def line(child: subprocess.Popen[str]) -> str:
    assert child.stdout is not None
    return child.stdout.readline().strip()


def tell(child: subprocess.Popen[str], text: str) -> None:
    assert child.stdin is not None
    child.stdin.write(text + "\n")
    child.stdin.flush()


def test_every_spooled_event_is_stored_once_across_a_broker_outage(
    broker: EmbeddedBroker, service: Lineage, tmp_path: Path
) -> None:
    kafka = KafkaSettings(bootstrap=broker.bootstrap)
    command = [sys.executable, "-m", "tests.integration.lineage.spool_child", str(tmp_path / "home")]
    with (
        (tmp_path / "child.log").open("w") as log,
        subprocess.Popen(
            [*command, broker.bootstrap],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        ) as child,
    ):
        before = drive(child, broker, kafka, service)
    after, records = seen_on_topic(kafka)
    assert records >= len(after)
    emitted = {identity(index) for index in range(TOTAL)}
    assert before | after == emitted

    assert wait_stored(service, TOTAL, timeout=60.0) == TOTAL
    time.sleep(2.0)  # anything redelivered late would show up as an extra stored event
    stored = stored_identities(service)
    assert len(stored) == TOTAL
    assert len(set(stored)) == TOTAL, "an event is stored more than once"
    assert set(stored) == emitted


def drive(
    child: subprocess.Popen[str], broker: EmbeddedBroker, kafka: KafkaSettings, service: Lineage
) -> set[Identity]:
    """Run the child's three phases around the outage; returns what was on the topic before it."""
    try:
        assert line(child) == "phase 1"
        before = wait_for(kafka, PHASES[0][1], timeout=30.0)
        assert len(before) == PHASES[0][1]
        # The service has consumed (and committed) phase 1 before the broker forgets topic and offsets.
        assert wait_stored(service, PHASES[0][1], timeout=30.0) == PHASES[0][1]

        broker.stop()
        stopped = time.monotonic()
        tell(child, "broker down")
        # The child emits all of phase 2 while the broker is down: emit() does not wait for the network.
        assert line(child) == "phase 2"
        assert time.monotonic() - stopped < OUTAGE_S
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped)))
        broker.start()
        tell(child, "broker up")

        assert line(child) == "phase 3"
        assert line(child) == "left 0"
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    return before
