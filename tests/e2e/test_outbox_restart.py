"""Under ``spine up``: kill -9 the broker during registrations and decisions; nothing pending is lost."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registry.events import decode_event, event_schema
from spine.broker import free_port
from spine.kafka import Admin, Consumer
from spine.settings import DEFAULT_PORTS, KafkaSettings
from spine.topics import AUDIT, SCHEMAS
from tests.e2e.test_spine_up import free_offset, spine

pytestmark = pytest.mark.integration

SCHEMA = '{"type": "record", "name": "E", "namespace": "x", "doc": "E.", "fields": []}'


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "spine-home"
    yield path
    spine("down", home=path)


def services(home: Path) -> dict[str, dict[str, object]]:
    return {s["name"]: s for s in json.loads(spine("status", "--json", home=home).stdout or "[]")}


def keys_on(kafka: KafkaSettings, topic: str, wanted: set[str], timeout: float = 90.0) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    with Consumer(kafka, f"e2e-{uuid.uuid4().hex[:8]}") as consumer:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while not wanted <= set(found) and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                key = message.key()
                if key is not None:
                    found[key.decode()] = message.value() or b""
    return found


def pending(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return {
        m[0]: float(m[1]) for m in re.findall(r'^spine_outbox_pending\{outbox="([^"]+)"\} (\S+)$', text, re.M)
    }


def test_events_enqueued_from_a_broker_kill_on_arrive_after_the_supervisor_restarts_it(home: Path) -> None:
    offset = free_offset()
    up = spine("up", "--detach", "--port-offset", str(offset), home=home)
    assert up.returncode == 0, up.stderr + up.stdout
    token = (home / "auth" / "admin.token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    registry = f"http://127.0.0.1:{DEFAULT_PORTS['registry'] + offset}"
    gate = f"http://127.0.0.1:{DEFAULT_PORTS['residency-gate'] + offset}"
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{DEFAULT_PORTS['broker'] + offset}")
    run = uuid.uuid4().hex[:6]
    subjects: list[str] = []
    decisions: list[str] = []
    errors: list[str] = []
    stop = threading.Event()

    def register() -> None:
        with httpx.Client(base_url=registry, headers=auth, timeout=30) as http:
            n = 0
            while not stop.is_set():
                subject = f"kill-{run}-{n}-value"
                answer = http.post(f"/subjects/{subject}/versions", json={"schema": SCHEMA})
                if answer.status_code == 200:
                    subjects.append(subject)
                else:
                    errors.append(f"registry {answer.status_code}: {answer.text}")
                n += 1
                time.sleep(0.02)

    def decide() -> None:
        with httpx.Client(base_url=gate, headers=auth, timeout=30) as http:
            while not stop.is_set():
                route = {"dataset": "sales.orders", "sink": f"kill-{run}"}
                answer = http.post("/v1/evaluate", json={"routes": [route]})
                if answer.status_code == 200:
                    decisions.extend(d["decision_id"] for d in answer.json()["decisions"])
                else:
                    errors.append(f"gate {answer.status_code}: {answer.text}")
                time.sleep(0.02)

    workers = [threading.Thread(target=register), threading.Thread(target=decide)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(2.0)
        before = services(home)
        subjects_at_kill, decisions_at_kill = len(subjects), len(decisions)
        assert subjects_at_kill, errors[:3]
        assert decisions_at_kill, errors[:3]
        os.kill(int(str(before["broker"]["pid"])), signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = services(home)
            if int(str(now["broker"]["restarts"])) >= 1 and now["broker"]["healthy"]:
                break
            time.sleep(0.3)
        else:
            pytest.fail(f"the broker was not restarted: {now}")
        time.sleep(2.0)
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)
    assert not errors, errors[:3]
    wanted_subjects = set(subjects[subjects_at_kill:])
    wanted_decisions = set(decisions[decisions_at_kill:])
    assert wanted_subjects
    assert wanted_decisions

    # Read only once both outboxes drained: the restarted (memory-only) broker has no topics until the
    # relays create them again, and a consumer subscribed to a topic that does not exist yet may not
    # notice it appear for minutes.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = {**pending(registry), **pending(gate)}
        if counts == {"registry": 0.0, "residency-gate": 0.0}:
            break
        time.sleep(0.3)
    assert counts == {"registry": 0.0, "residency-gate": 0.0}
    events = keys_on(kafka, SCHEMAS, wanted_subjects)
    audit = keys_on(kafka, AUDIT, wanted_decisions)
    assert wanted_subjects <= set(events), (
        f"missing schema events: {sorted(wanted_subjects - set(events))[:5]}"
    )
    assert wanted_decisions <= set(audit), (
        f"missing audit records: {sorted(wanted_decisions - set(audit))[:5]}"
    )
    schema = event_schema()
    assert all(decode_event(schema, events[s])["type"] == "REGISTERED" for s in wanted_subjects)
    assert all(json.loads(audit[d])["decision_id"] == d for d in wanted_decisions)
    assert Admin(kafka).describe_topic(SCHEMAS).config.get("cleanup.policy") == "compact"

    status = services(home)
    assert status["registry"]["status"] == "healthy", status["registry"]
    assert status["residency-gate"]["status"] == "healthy", status["residency-gate"]


def test_spine_status_shows_a_service_whose_outbox_waits_too_long_as_degraded_with_the_reason(
    home: Path,
) -> None:
    offset = free_offset()
    dead_broker = f"127.0.0.1:{free_port()}"
    env = {"SPINE_KAFKA_BOOTSTRAP": dead_broker, "SPINE_OUTBOX_DEGRADED_AFTER_S": "0.5"}
    up = spine("up", "--detach", "--port-offset", str(offset), home=home, env=env)
    assert up.returncode == 0, up.stderr + up.stdout
    token = (home / "auth" / "admin.token").read_text().strip()
    registry = f"http://127.0.0.1:{DEFAULT_PORTS['registry'] + offset}"
    answer = httpx.post(
        f"{registry}/subjects/degraded-value/versions",
        json={"schema": SCHEMA},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    time.sleep(1.0)
    status = spine("status", "--json", home=home, env=env)
    table = spine("status", home=home, env=env)
    rows = {s["name"]: s for s in json.loads(status.stdout)}
    assert status.returncode == 1
    assert rows["registry"]["status"] == "degraded"
    assert rows["registry"]["healthy"] is False
    # One registration queues two rows: its schema event and its lineage event.
    assert "outbox relay registry degraded: 2 pending" in rows["registry"]["reason"]
    assert "degraded: outbox relay registry degraded" in table.stdout
