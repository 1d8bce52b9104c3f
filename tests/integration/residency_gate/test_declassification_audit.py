"""The gate's declassification endpoint: security or admin only, one hash-chained record per request."""

from __future__ import annotations

from typing import Any

import pytest

from residency_gate.audit import Checkpoint, verify_log
from spine.auth import Role
from tests.integration.residency_gate.gate import Gate

pytestmark = pytest.mark.integration

PATH = "/v1/audit/declassifications"


def notice(**overrides: Any) -> dict[str, Any]:
    return {
        "subject": "sales.orders-value",
        "version": 2,
        "semver": "1.0.1",
        "schema_id": 7,
        "fields": [{"field": "email", "removed_tags": ["PII.email"], "now": "email"}],
        **overrides,
    }


def test_security_records_a_declassification_in_the_chained_audit_log(gate: Gate) -> None:
    response = gate.post(PATH, role=Role.SECURITY, json=notice())
    assert response.status_code == 201, response.text
    record = response.json()["record"]
    logged = gate.get("/v1/audit", role=Role.SECURITY, params={"limit": 1000}).json()["records"]
    assert logged[-1] == record
    assert {k: record[k] for k in ("kind", "actor", "subject", "version", "semver", "schema_id")} == {
        "kind": "declassification",
        "actor": "test-security",
        "subject": "sales.orders-value",
        "version": 2,
        "semver": "1.0.1",
        "schema_id": 7,
    }
    assert record["fields"] == [{"field": "email", "removed_tags": ["PII.email"], "now": "email"}]
    gate.post("/v1/audit/checkpoints", role=Role.SECURITY)
    checkpoints = [
        Checkpoint.from_dict(c)
        for c in gate.get("/v1/audit/checkpoints", role=Role.SECURITY).json()["checkpoints"]
    ]
    key = gate.get("/v1/audit/public-key", role=None).json()["public_key_pem"].encode()
    assert verify_log(logged, checkpoints, key).ok


@pytest.mark.parametrize("role", [Role.PRODUCER, Role.CONSUMER, None])
def test_other_roles_cannot_record_a_declassification(gate: Gate, role: Role | None) -> None:
    before = gate.get("/v1/audit", role=Role.SECURITY).json()["size"]
    response = gate.post(PATH, role=role, json=notice())
    assert response.status_code == (401 if role is None else 403), response.text
    assert gate.get("/v1/audit", role=Role.SECURITY).json()["size"] == before


@pytest.mark.parametrize(
    "body",
    [
        notice(fields=[]),
        notice(version=0),
        notice(subject=""),
        notice(fields=[{"field": "email", "removed_tags": [], "now": "email"}]),
        notice(fields=[{"field": "email", "removed_tags": ["PII"], "now": "email", "value": "a@b.c"}]),
        [],
    ],
)
def test_a_malformed_declassification_is_refused_and_not_recorded(gate: Gate, body: Any) -> None:
    response = gate.post(PATH, role=Role.ADMIN, json=body)
    assert (response.status_code, response.json()["error_code"]) == (422, 42203), response.text
