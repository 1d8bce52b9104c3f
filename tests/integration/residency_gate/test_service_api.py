"""The gate's HTTP API against a real server on SQLite: policy, auth, evaluation, the audit log."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

from residency_gate.audit import Checkpoint, generate_private_key_pem, key_id, public_key_pem, verify_log
from residency_gate.errors import AuditKeyError
from spine.auth import Role
from tests.integration.residency_gate.gate import MATRIX, Gate, start_gate

pytestmark = pytest.mark.integration

SECOND = (
    MATRIX.read_text(encoding="utf-8")
    .replace('version: "1"', 'version: "2"')
    .replace("  - id: public-anywhere\n    allow:\n      classification: public\n", "")
)


def audit(gate: Gate, **params: str | int) -> dict[str, Any]:
    response = gate.get("/v1/audit", role=Role.SECURITY, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def records(gate: Gate, **params: str | int) -> list[dict[str, Any]]:
    return list(audit(gate, limit=10_000, **params)["records"])


def test_policy_file_is_brought_into_force_and_audited_at_first_start(gate: Gate) -> None:
    policy = gate.get("/v1/policy", role=Role.CONSUMER).json()
    assert policy["version"] == "1"
    assert policy["revision"] == 1
    assert "sales.orders" in policy["document"]["datasets"]
    first = records(gate)[0]
    assert first["seq"] == 0
    assert first["kind"] == "policy_change"
    assert first["prev_hash"] == "0" * 64
    assert first["policy_hash"] == policy["hash"]


def test_pushing_a_valid_policy_makes_a_new_audited_revision(gate: Gate) -> None:
    old = gate.get("/v1/policy").json()
    response = gate.post("/v1/policy", content=SECOND.encode(), params={"source": "second.yaml"})
    assert response.status_code == 201, response.text
    assert response.json()["version"] == "2"
    assert response.json()["revision"] == 2
    assert gate.get("/v1/policy").json()["hash"] == response.json()["hash"]
    change = records(gate)[-1]
    assert change["kind"] == "policy_change"
    assert change["previous_policy_hash"] == old["hash"]
    assert change["actor"] == "test-admin"
    again = gate.post("/v1/policy", content=SECOND.encode())
    assert again.status_code == 200
    assert again.json()["changed"] is False


def test_an_invalid_policy_is_refused_naming_the_line_and_the_old_one_stays(gate: Gate) -> None:
    before = gate.get("/v1/policy").json()
    size = audit(gate)["size"]
    bad = SECOND.replace("home: eu", "home: mars", 1)
    response = gate.post("/v1/policy", content=bad.encode(), params={"source": "bad.yaml"})
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == 42201
    assert body["message"].startswith("bad.yaml:7: ")
    assert "mars" in body["message"]
    assert "\n" not in body["message"]
    assert gate.get("/v1/policy").json()["hash"] == before["hash"]
    assert audit(gate)["size"] == size
    decision = gate.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "us-analytics"}).json()
    assert decision["decisions"][0]["policy_hash"] == before["hash"]


def test_reusing_a_policy_version_for_a_different_document_is_a_conflict(gate: Gate) -> None:
    changed = MATRIX.read_text(encoding="utf-8").replace("[public, PII]", "[public]")
    response = gate.post("/v1/policy", content=changed.encode())
    assert response.status_code == 409
    assert response.json()["error_code"] == 40901


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), (Role.PRODUCER, 403), (Role.SECURITY, 403), (Role.ADMIN, 201)]
)
def test_policy_changes_need_an_admin_token(gate: Gate, role: Role | None, status: int) -> None:
    response = gate.post("/v1/policy", role=role, content=SECOND.encode())
    assert response.status_code == status
    if status >= 400:
        assert set(response.json()) == {"error_code", "message"}


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), (Role.PRODUCER, 403), (Role.CONSUMER, 403), (Role.SECURITY, 200)]
)
def test_reading_the_audit_log_needs_a_security_token(gate: Gate, role: Role | None, status: int) -> None:
    assert gate.get("/v1/audit", role=role).status_code == status
    assert gate.get("/v1/audit/checkpoints", role=role).status_code == status


def test_a_wrong_token_is_401(gate: Gate) -> None:
    response = gate.post(
        "/v1/evaluate", role=None, headers={"Authorization": "Bearer spn_wrong"}, json={"dataset": "x"}
    )
    assert response.status_code == 401
    assert response.json()["error_code"] == 40101


def test_a_single_route_is_decided_and_audited_under_its_decision_id(gate: Gate) -> None:
    response = gate.post(
        "/v1/evaluate", role=Role.PRODUCER, json={"dataset": "crm.customers", "sink": "us-analytics"}
    )
    assert response.status_code == 200
    [decision] = response.json()["decisions"]
    assert decision["outcome"] == "deny"
    found = gate.get("/v1/audit", role=Role.SECURITY, params={"decision_id": decision["decision_id"]})
    [record] = found.json()["records"]
    assert record["outcome"] == "deny"
    assert record["dataset"] == "crm.customers"
    assert record["sink"] == "us-analytics"
    assert record["reasons"] == decision["reasons"]
    assert record["policy_hash"] == decision["policy_hash"]


def test_a_batch_gets_one_decision_per_route_in_order_with_field_names_but_no_values(gate: Gate) -> None:
    routes = [
        {"dataset": "sales.orders", "sink": "us-analytics"},
        {
            "dataset": "crm.customers",
            "destination_region": "us",
            "fields": [{"name": "email", "tags": ["PII.email"]}, {"name": "id", "tags": []}],
        },
        {"dataset": "unknown.set", "destination_region": "eu"},
    ]
    body = gate.post("/v1/evaluate", role=Role.CONSUMER, json={"routes": routes}).json()
    outcomes = [d["outcome"] for d in body["decisions"]]
    assert outcomes == ["allow", "allow_with_redaction", "deny"]
    assert "unknown.set" in body["decisions"][2]["reasons"][0]
    logged = records(gate)[-3:]
    assert [r["decision_id"] for r in logged] == [d["decision_id"] for d in body["decisions"]]
    assert logged[1]["redactions"] == [{"field": "email", "action": "drop", "tags": ["PII.email"]}]


def test_twenty_concurrent_requests_keep_seq_contiguous_and_the_chain_intact(gate: Gate) -> None:
    def ask(i: int) -> list[str]:
        routes = [
            {"dataset": "sales.orders", "sink": "eu-warehouse", "purpose": f"p{i}-{j}"} for j in range(5)
        ]
        response = gate.post("/v1/evaluate", role=Role.PRODUCER, json={"routes": routes})
        assert response.status_code == 200, response.text
        return [d["decision_id"] for d in response.json()["decisions"]]

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        ids = [i for batch in pool.map(ask, range(20)) for i in batch]
    logged = records(gate)
    assert [r["seq"] for r in logged] == list(range(len(logged)))
    assert {r["decision_id"] for r in logged if r["kind"] == "decision"} == set(ids)
    for previous, record in itertools.pairwise(logged):
        assert record["prev_hash"] == previous["hash"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", 42203),
        (b'{"dataset": "\\ud800", "sink": "x"}', 42203),
        (b"[]", 42202),
        (b'{"dataset": "sales.orders"}', 42202),
        (b'{"dataset": 7, "sink": "x"}', 42202),
        (b'{"routes": []}', 42202),
        (b'{"routes": [{"dataset": "a", "sink": "b"}, 3]}', 42202),
        (b'{"dataset": "a", "sink": "b", "colour": "red"}', 42202),
        (b'{"dataset": "a", "sink": "b", "fields": [{"name": "x", "tags": "PII"}]}', 42202),
    ],
)
def test_malformed_evaluate_bodies_get_a_4xx_error_body_not_a_500(gate: Gate, body: bytes, code: int) -> None:
    response = gate.post("/v1/evaluate", role=Role.PRODUCER, content=body)
    assert response.status_code == 422
    assert response.json()["error_code"] == code
    assert response.json()["message"]


def test_audit_can_be_read_by_time_window_and_a_bad_time_is_422(gate: Gate) -> None:
    gate.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "eu-warehouse"})
    logged = records(gate)
    last = logged[-1]["time"]
    assert records(gate, since=last) == [logged[-1]]
    assert records(gate, until=last) == logged[:-1]
    assert records(gate, since="2000-01-01T00:00:00+02:00", until="2000-01-02") == []
    response = gate.get("/v1/audit", role=Role.SECURITY, params={"since": "yesterday"})
    assert response.status_code == 422
    missing = gate.get("/v1/audit", role=Role.SECURITY, params={"decision_id": "no-such-id"})
    assert missing.status_code == 404


def test_checkpoints_are_signed_on_request_and_verify_against_the_public_key(gate: Gate) -> None:
    gate.post("/v1/evaluate", json={"routes": [{"dataset": "sales.orders", "sink": "eu-warehouse"}] * 3})
    signed = gate.post("/v1/audit/checkpoints", role=Role.SECURITY).json()
    assert signed["signed"] is True
    checkpoints = [Checkpoint.from_dict(c) for c in signed["checkpoints"]]
    key = gate.get("/v1/audit/public-key", role=None).json()
    assert checkpoints[-1].key_id == key["key_id"]
    logged = records(gate)
    assert checkpoints[-1].tree_size == len(logged)
    report = verify_log(logged, checkpoints, key["public_key_pem"].encode())
    assert report.ok, report.problem
    assert report.unverified_tail == 0
    again = gate.post("/v1/audit/checkpoints", role=Role.SECURITY).json()
    assert again["signed"] is False


def checkpoint_sizes(gate: Gate) -> list[int]:
    body = gate.get("/v1/audit/checkpoints", role=Role.SECURITY).json()
    return [c["tree_size"] for c in body["checkpoints"]]


def test_a_checkpoint_is_signed_every_n_records(tmp_path: Path) -> None:
    gate = start_gate(tmp_path, checkpoint_every=4)
    try:
        assert checkpoint_sizes(gate) == []
        gate.post("/v1/evaluate", json={"routes": [{"dataset": "sales.orders", "sink": "eu-warehouse"}] * 3})
        assert checkpoint_sizes(gate) == [4]
        gate.post("/v1/evaluate", json={"routes": [{"dataset": "sales.orders", "sink": "eu-warehouse"}] * 3})
        assert checkpoint_sizes(gate) == [4]
        gate.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "eu-warehouse"})
        assert checkpoint_sizes(gate) == [4, 8]
    finally:
        gate.stop()


def test_a_checkpoint_is_signed_every_t_seconds_when_records_were_added(tmp_path: Path) -> None:
    gate = start_gate(tmp_path, checkpoint_seconds=0.2)
    try:
        gate.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "eu-warehouse"})
        deadline = time.monotonic() + 10
        while checkpoint_sizes(gate)[-1:] != [2] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpoint_sizes(gate)[-1] == 2
        time.sleep(0.5)
        assert checkpoint_sizes(gate)[-1] == 2, "no new records, no new checkpoint"
    finally:
        gate.stop()


def test_state_survives_a_restart_and_the_log_continues_the_chain(tmp_path: Path) -> None:
    first = start_gate(tmp_path)
    try:
        first.post("/v1/policy", content=SECOND.encode())
        first.post("/v1/quarantine/eu-warehouse", json={"reason": "scan finding"})
        first.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "eu-warehouse"})
        key = first.get("/v1/audit/public-key", role=None).json()
    finally:
        first.stop()
    second = start_gate(tmp_path)
    try:
        assert second.get("/v1/policy").json()["version"] == "2"
        assert second.get("/v1/audit/public-key", role=None).json() == key
        decision = second.post(
            "/v1/evaluate", json={"dataset": "sales.orders", "sink": "eu-warehouse"}
        ).json()
        assert decision["decisions"][0]["reasons"] == ["sink eu-warehouse is quarantined"]
        logged = records(second)
        assert [r["seq"] for r in logged] == list(range(len(logged)))
        checkpoints = [
            Checkpoint.from_dict(c) for c in second.get("/v1/audit/checkpoints").json()["checkpoints"]
        ]
        assert checkpoints, "stopping the gate signs a final checkpoint"
        report = verify_log(logged, checkpoints, key["public_key_pem"].encode(), allow_unsigned_tail=True)
        assert (report.ok, report.unverified_tail) == (True, 1), "the decision after the restart is unsigned"
    finally:
        second.stop()


def test_quarantine_denies_every_route_to_the_sink_until_released(gate: Gate) -> None:
    route = {"dataset": "sales.orders", "sink": "us-analytics"}
    assert gate.post("/v1/quarantine/us-analytics", role=Role.SECURITY).status_code == 403
    assert gate.post("/v1/quarantine/us-analytics", json={"reason": "unlisted"}).status_code == 201
    assert gate.post("/v1/quarantine/us-analytics").status_code == 200
    listed = gate.get("/v1/quarantine", role=Role.CONSUMER).json()["quarantined"]
    assert [q["sink"] for q in listed] == ["us-analytics"]
    assert gate.post("/v1/evaluate", json=route).json()["decisions"][0]["outcome"] == "deny"
    assert gate.delete("/v1/quarantine/us-analytics", role=Role.SECURITY).status_code == 403
    assert gate.delete("/v1/quarantine/us-analytics").status_code == 200
    assert gate.delete("/v1/quarantine/us-analytics").status_code == 404
    assert gate.post("/v1/evaluate", json=route).json()["decisions"][0]["outcome"] == "allow"
    kinds = [r["kind"] for r in records(gate)]
    assert kinds.count("quarantine") == 1
    assert kinds.count("release") == 1


def test_health_and_metrics_answer(gate: Gate) -> None:
    assert gate.get("/health/live", role=None).json()["status"] == "ok"
    assert gate.get("/health/ready", role=None).status_code == 200
    gate.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "us-analytics"})
    metrics = gate.get("/metrics", role=None).text
    assert 'residency_decisions_total{outcome="allow"} 1.0' in metrics
    assert "residency_audit_records 2.0" in metrics


def test_a_configured_signing_key_signs_the_checkpoints(tmp_path: Path) -> None:
    pem = generate_private_key_pem()
    gate = start_gate(tmp_path, signing_key=pem.decode())
    try:
        assert gate.get("/v1/audit/public-key", role=None).json()["key_id"] == key_id(public_key_pem(pem))
        assert not (tmp_path / "residency" / "signing-key.pem").exists()
    finally:
        gate.stop()


def test_a_signing_key_that_is_not_ed25519_pem_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError):
        start_gate(tmp_path, signing_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")


def test_a_policy_can_be_pushed_as_json(gate: Gate) -> None:
    document = {"version": "json-1", "regions": ["eu"], "datasets": {}, "sinks": {}, "rules": []}
    response = gate.post("/v1/policy", json=document)
    assert response.status_code == 201, response.text
    decision = gate.post("/v1/evaluate", json={"dataset": "sales.orders", "destination_region": "eu"}).json()
    assert decision["decisions"][0]["reasons"] == ["dataset sales.orders is not in the residency matrix"]


def test_an_oversized_body_is_413(gate: Gate) -> None:
    routes = [{"dataset": "sales.orders", "sink": "eu-warehouse", "purpose": "x" * 100}] * 20_000
    response = gate.post("/v1/evaluate", json={"routes": routes})
    assert response.status_code == 413
    assert response.json()["error_code"] == 41301


def test_the_outbox_backlog_is_a_metric_when_no_broker_is_configured(gate: Gate) -> None:
    gate.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "us-analytics"})
    assert "residency_outbox_pending 2.0" in gate.get("/metrics", role=None).text


def test_names_too_long_to_store_are_4xx_not_5xx(gate: Gate) -> None:
    quarantine = gate.post(f"/v1/quarantine/{'s' * 300}")
    assert quarantine.status_code == 422
    assert quarantine.json()["error_code"] == 42203
    long_version = SECOND.replace('version: "2"', f'version: "{"v" * 200}"')
    policy = gate.post("/v1/policy", content=long_version.encode(), params={"source": "long.yaml"})
    assert policy.status_code == 422
    assert policy.json()["message"] == "long.yaml: version is longer than 128 characters"


def test_a_json_policy_with_characters_outside_the_bmp_is_accepted(gate: Gate) -> None:
    document = {"version": "emoji-1", "description": "residency 🌍", "regions": ["eu"]}
    response = gate.post("/v1/policy", content=json.dumps(document).encode())
    assert response.status_code == 201, response.text
    assert gate.get("/v1/policy").json()["document"]["description"] == "residency 🌍"


def test_the_openapi_document_describes_the_evaluate_body(gate: Gate) -> None:
    spec = gate.get("/openapi.json", role=None).json()
    body = spec["paths"]["/v1/evaluate"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["anyOf"][0]["required"] == ["dataset"]
    assert body["anyOf"][1]["properties"]["routes"]["maxItems"] == 10_000
    assert {"/v1/policy", "/v1/audit", "/v1/quarantine/{sink}"} <= set(spec["paths"])
