"""A batch evaluated for a run reaches ``_spine.lineage`` as one event with a spine_residency facet."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lineage.emit import RESIDENCY_FACET
from residency_gate.client import GateClient
from residency_gate.evaluate import FieldTag, Route, RunRef
from residency_gate.lineage import PRODUCER
from spine.auth import Role
from spine.kafka import read_topic
from spine.settings import KafkaSettings
from spine.topics import LINEAGE
from tests.integration.residency_gate.gate import Gate, start_gate
from tests.unit.lineage.spec import validate_event

pytestmark = pytest.mark.integration

ROUTES = [
    Route("sales.orders", sink="us-analytics"),
    Route("crm.customers", destination_region="us", fields=(FieldTag("email", ("PII.email",)),)),
    Route("nope", destination_region="eu"),
]


@pytest.fixture
def relaying_gate(tmp_path: Path, kafka_settings: KafkaSettings) -> Iterator[Gate]:
    running = start_gate(tmp_path / "home", kafka=kafka_settings)
    try:
        yield running
    finally:
        running.stop()


def gate_events(kafka: KafkaSettings) -> list[dict[str, Any]]:
    events = [json.loads(m.value() or b"") for m in read_topic(kafka, LINEAGE)]
    return [e for e in events if e["producer"] == PRODUCER]


def wait_for_run(kafka: KafkaSettings, run_id: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in gate_events(kafka) if e["run"]["runId"] == run_id]
        if found:
            return found
        time.sleep(0.3)
    return []


def test_a_runs_decisions_reach_the_lineage_topic_as_a_residency_facet(
    relaying_gate: Gate, kafka_settings: KafkaSettings
) -> None:
    run = RunRef(str(uuid.uuid4()), "data-spine", f"cdc.test-{uuid.uuid4().hex[:6]}")
    before = len(gate_events(kafka_settings))
    with GateClient(relaying_gate.url, relaying_gate.tokens[Role.PRODUCER]) as client:
        client.evaluate_batch(ROUTES[:1])  # no run: no lineage
        decisions = client.evaluate_batch(ROUTES, run=run)

    [event] = wait_for_run(kafka_settings, run.run_id)
    validate_event(event)
    assert len(gate_events(kafka_settings)) == before + 1
    assert (event["eventType"], event["job"]["name"]) == ("OTHER", run.job_name)
    listed = event["run"]["facets"][RESIDENCY_FACET]["decisions"]
    assert [d["decision_id"] for d in listed] == [d.decision_id for d in decisions]
    assert [d["outcome"] for d in listed] == [d.outcome.value for d in decisions]
    assert listed[1]["redacted_fields"] == [
        {"field": r.field, "action": r.action} for r in decisions[1].redactions
    ]


def test_each_listed_decision_is_in_the_audit_log(relaying_gate: Gate, kafka_settings: KafkaSettings) -> None:
    run = RunRef(str(uuid.uuid4()), "data-spine", "cdc.audit-check")
    with GateClient(relaying_gate.url, relaying_gate.tokens[Role.PRODUCER]) as client:
        client.evaluate_batch(ROUTES, run=run)
    [event] = wait_for_run(kafka_settings, run.run_id)
    for listed in event["run"]["facets"][RESIDENCY_FACET]["decisions"]:
        found = relaying_gate.get("/v1/audit", params={"decision_id": listed["decision_id"]})
        assert found.status_code == 200, found.text
        assert found.json()["records"][0]["decision_id"] == listed["decision_id"]


def test_a_malformed_run_is_refused_like_a_malformed_route(relaying_gate: Gate) -> None:
    body = {
        "routes": [{"dataset": "a", "sink": "b"}],
        "run": {"run_id": "x", "job": {"namespace": "n", "name": "j"}},
    }
    answer = relaying_gate.post("/v1/evaluate", json=body)
    assert answer.status_code == 422, answer.text
    assert "run field 'run_id' must be a UUID" in answer.json()["message"]
