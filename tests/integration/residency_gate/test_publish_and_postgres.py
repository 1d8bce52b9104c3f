"""Audit records reach ``_spine.audit`` through the outbox, also after a broker outage; PostgreSQL storage."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from spine.auth import Role
from spine.broker import EmbeddedBroker, free_port
from spine.kafka import Consumer
from spine.settings import KafkaSettings, OutboxSettings
from spine.topics import AUDIT
from tests.integration.residency_gate.gate import start_gate

pytestmark = pytest.mark.integration

ROUTES = [{"dataset": "sales.orders", "sink": "us-analytics"}, {"dataset": "crm.customers", "sink": "x"}]


def published(
    kafka: KafkaSettings, group: str, wanted: set[str], timeout: float = 30.0
) -> dict[str, dict[str, Any]]:
    """Records on ``_spine.audit`` keyed by decision id, until every wanted id was seen."""
    found: dict[str, dict[str, Any]] = {}
    with Consumer(kafka, group) as consumer:
        consumer.subscribe([AUDIT])
        deadline = time.monotonic() + timeout
        while not wanted <= set(found) and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=0.5):
                key = message.key()
                if key is not None and key.decode() in wanted:
                    found[key.decode()] = json.loads(message.value() or b"{}")
    return found


def test_every_decision_is_published_to_spine_audit_keyed_by_decision_id(
    tmp_path: Path, kafka_settings: KafkaSettings, group_factory: Callable[[], str]
) -> None:
    gate = start_gate(tmp_path, kafka=kafka_settings)
    try:
        body = gate.post("/v1/evaluate", role=Role.PRODUCER, json={"routes": ROUTES}).json()
        ids = {d["decision_id"] for d in body["decisions"]}
        found = published(kafka_settings, group_factory(), ids)
        logged = {
            r["decision_id"]: r
            for r in gate.get("/v1/audit", role=Role.SECURITY).json()["records"]
            if r.get("decision_id")
        }
    finally:
        gate.stop()
    assert set(found) == ids
    for decision_id, record in found.items():
        assert record == logged[decision_id]


def test_records_made_while_the_broker_is_down_are_published_later(
    tmp_path: Path, kafka_settings: KafkaSettings, group_factory: Callable[[], str]
) -> None:
    down = KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}")
    first = start_gate(tmp_path, kafka=down)
    try:
        body = first.post("/v1/evaluate", role=Role.PRODUCER, json={"routes": ROUTES}).json()
        ids = {d["decision_id"] for d in body["decisions"]}
        assert first.app.state.relay.published == 0
    finally:
        first.stop()
    second = start_gate(tmp_path, kafka=kafka_settings)
    try:
        found = published(kafka_settings, group_factory(), ids)
    finally:
        second.stop()
    assert set(found) == ids


def test_readiness_reports_the_relay_degraded_while_records_wait_past_the_threshold(
    tmp_path: Path, group_factory: Callable[[], str]
) -> None:
    port = free_port()
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{port}")
    gate = start_gate(tmp_path, kafka=kafka, outbox=OutboxSettings(degraded_after_s=0.5))
    try:
        body = gate.post("/v1/evaluate", role=Role.PRODUCER, json={"routes": ROUTES}).json()
        ids = {d["decision_id"] for d in body["decisions"]}
        time.sleep(1.0)
        ready = gate.get("/health/ready", role=None)
        metrics = gate.get("/metrics", role=None).text
        with EmbeddedBroker(port, log_file=tmp_path / "broker.log"):
            deadline = time.monotonic() + 60
            while gate.get("/health/ready", role=None).status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            recovered = gate.get("/health/ready", role=None)
            found = published(kafka, group_factory(), ids)
    finally:
        gate.stop()
    assert ready.status_code == 503
    document = ready.json()
    assert document["status"] == "degraded"
    [degraded] = document["degraded"]
    assert degraded["relay"] == "residency-gate"
    assert degraded["pending"] == len(ids) + 1  # the policy's record and one per decision
    assert degraded["oldest_pending_s"] >= 0.5
    assert "outbox relay residency-gate degraded" in document["problems"][0]
    assert 'spine_outbox_pending{outbox="residency-gate"} 3.0' in metrics
    assert 'spine_outbox_oldest_pending_seconds{outbox="residency-gate"}' in metrics
    assert recovered.status_code == 200
    assert set(found) == ids


def test_the_gate_runs_on_postgresql_with_two_gates_appending_concurrently(
    tmp_path: Path, database_factory: Callable[[], str]
) -> None:
    url = database_factory()
    gate = start_gate(tmp_path / "a", database_url=url)
    other = start_gate(tmp_path / "b", database_url=url)
    try:
        assert gate.get("/health/ready", role=None).status_code == 200

        def ask(i: int) -> int:
            target = gate if i % 2 else other
            return target.post("/v1/evaluate", json={"routes": ROUTES * 5}).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            assert set(pool.map(ask, range(20))) == {200}
        assert gate.post("/v1/quarantine/eu-warehouse").status_code == 201
    finally:
        gate.stop()
        other.stop()
    again = start_gate(tmp_path / "a", database_url=url)
    try:
        records = again.get("/v1/audit", role=Role.SECURITY, params={"limit": 1000}).json()["records"]
        assert [r["seq"] for r in records] == list(range(1 + 20 * 10 + 1))
        assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(records))
        assert again.get("/v1/quarantine").json()["quarantined"][0]["sink"] == "eu-warehouse"
        assert again.get("/v1/policy").json()["revision"] == 1
    finally:
        again.stop()
