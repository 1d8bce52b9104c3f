"""``python -m lineage`` killed with SIGKILL mid-ingest from Kafka loses nothing and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from spine.broker import free_port
from spine.kafka import Producer
from spine.settings import KafkaSettings
from spine.topics import LINEAGE
from tests.unit.lineage.events import dataset, run_event

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 12_000


def _start(home: Path, port: int, bootstrap: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(SPINE_HOME=str(home), SPINE_KAFKA_BOOTSTRAP=bootstrap, SPINE_LINEAGE_PORT=str(port))
    with (home / f"lineage-{time.monotonic_ns()}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "lineage"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


def _count(url: str) -> int:
    try:
        response = httpx.get(f"{url}/api/v1/events/lineage", params={"limit": 1}, timeout=5)
    except httpx.HTTPError:
        return -1
    return int(response.json()["totalCount"]) if response.status_code == 200 else -1


def _ours(home: Path, namespace: str) -> int:
    """Events of this test stored (the session's broker also carries other tests' lineage events)."""
    database = home / "lineage" / "lineage.db"
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            query = "SELECT count(*) FROM events WHERE job_namespace = ?"
            return int(db.execute(query, (namespace,)).fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_kill_9_mid_ingest_then_restart_stores_every_event_once(
    tmp_path: Path, kafka_settings: KafkaSettings
) -> None:
    namespace = f"crash-{uuid.uuid4().hex[:8]}"
    with Producer(kafka_settings) as producer:
        for i in range(EVENTS):
            event = run_event(f"job-{i % 50}", inputs=[dataset("ns", f"in-{i % 200}")],
                              outputs=[dataset("ns", f"out-{i % 300}")], namespace=namespace)  # fmt: skip
            producer.send(LINEAGE, json.dumps(event).encode())
    home = tmp_path / "home"
    home.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start(home, port, kafka_settings.bootstrap_or_raise())
    try:
        deadline = time.monotonic() + 60
        while not 0 < _ours(home, namespace) < EVENTS:
            assert time.monotonic() < deadline, "ingest never started"
            assert process.poll() is None
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        killed_at = _count(url)
        assert killed_at == -1
        process = _start(home, port, kafka_settings.bootstrap_or_raise())
        deadline = time.monotonic() + 120
        while _ours(home, namespace) < EVENTS:
            assert time.monotonic() < deadline, f"only {_ours(home, namespace)} of {EVENTS} stored"
            time.sleep(0.2)
        time.sleep(2)  # anything redelivered after the last commit would show now
        assert _ours(home, namespace) == EVENTS
        assert _count(url) >= EVENTS  # the service answers, and holds at least this test's events
    finally:
        process.kill()
        process.wait(10)
