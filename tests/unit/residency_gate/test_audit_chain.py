"""Audit records: canonical JSON, sealing into the hash chain, record bodies that never carry field values."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from residency_gate.audit import (
    GENESIS_HASH,
    canonical_json,
    decision_body,
    finding_body,
    policy_change_body,
    record_hash,
    seal,
)
from residency_gate.errors import AuditError
from residency_gate.evaluate import FieldTag, Route, evaluate
from residency_gate.policy import load_policy_text

T0 = datetime(2026, 12, 1, 0, 0, 0, 250000, tzinfo=UTC)

POLICY = """
version: "v1"
regions: [eu-west, us-east]
classifications: [INTERNAL, PII, PII.email]
datasets:
  crm.customers: {home: eu-west, classification: INTERNAL}
rules:
  - id: customers-to-us
    allow: {dataset: crm.customers, to: [us-east], redact: {fields_tagged: [PII], action: drop}}
"""


def test_canonical_json_sorts_keys_and_uses_rfc8785_number_and_string_forms() -> None:
    assert canonical_json({"b": [1, 2.5, 1e21], "a": "é\n", "c": None, "d": True}) == (
        b'{"a":"\xc3\xa9\\n","b":[1,2.5,1e+21],"c":null,"d":true}'
    )


def test_seal_adds_seq_and_prev_hash_and_hashes_the_record_without_hash() -> None:
    record = seal({"kind": "finding", "z": 1}, seq=0, prev_hash=GENESIS_HASH)
    assert record["seq"] == 0
    assert record["prev_hash"] == "0" * 64
    expected = hashlib.sha256(
        b'{"kind":"finding","prev_hash":"' + b"0" * 64 + b'","seq":0,"z":1}'
    ).hexdigest()
    assert record["hash"] == expected == record_hash(record)


def test_seal_chains_each_record_to_the_previous_hash() -> None:
    first = seal({"kind": "finding"}, seq=0, prev_hash=GENESIS_HASH)
    second = seal({"kind": "finding"}, seq=1, prev_hash=first["hash"])
    assert second["prev_hash"] == first["hash"]
    assert second["hash"] != first["hash"]


def test_record_hash_does_not_depend_on_key_order() -> None:
    record = seal({"a": 1, "b": {"y": 2, "x": 1}}, seq=3, prev_hash=GENESIS_HASH)
    reordered = {key: record[key] for key in reversed(list(record))}
    reordered["b"] = {"x": 1, "y": 2}
    assert record_hash(reordered) == record["hash"]


def test_seal_refuses_a_body_that_already_has_chain_keys() -> None:
    with pytest.raises(AuditError, match="must not set hash"):
        seal({"hash": "x"}, seq=0, prev_hash=GENESIS_HASH)


def test_decision_body_names_fields_and_tags_but_holds_no_values() -> None:
    policy = load_policy_text(POLICY)
    route = Route(
        "crm.customers",
        destination_region="us-east",
        fields=(FieldTag("email", ("PII.email",)), FieldTag("id", ())),
    )
    decision = evaluate(policy, route, decision_id="d-1")
    body = decision_body(decision, time=T0)
    assert body["kind"] == "decision"
    assert body["time"] == "2026-12-01T00:00:00.250000Z"
    assert body["decision_id"] == "d-1"
    assert body["dataset"] == "crm.customers"
    assert body["source_region"] == "eu-west"
    assert body["destination_region"] == "us-east"
    assert body["classification"] == "INTERNAL"
    assert body["outcome"] == "allow_with_redaction"
    assert body["redactions"] == [{"field": "email", "action": "drop", "tags": ["PII.email"]}]
    assert body["policy_hash"] == policy.hash
    assert body["route"]["fields"] == [{"name": "email", "tags": ["PII.email"]}, {"name": "id", "tags": []}]


def test_record_times_are_converted_to_utc_and_naive_times_refused() -> None:
    plus_two = datetime(2026, 12, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert finding_body("finding", "t", "d", time=plus_two)["time"] == "2026-12-01T00:00:00.000000Z"
    with pytest.raises(AuditError, match="timezone-aware"):
        finding_body("finding", "t", "d", time=datetime(2026, 12, 1))


def test_policy_change_body_carries_version_hashes_and_document() -> None:
    policy = load_policy_text(POLICY)
    body = policy_change_body(policy, actor="admin", time=T0, previous_hash=None)
    assert body["kind"] == "policy_change"
    assert body["policy_hash"] == policy.hash
    assert body["previous_policy_hash"] is None
    assert body["policy"]["version"] == "v1"
    seal(body, seq=0, prev_hash=GENESIS_HASH)


def test_finding_body_refuses_unknown_kinds() -> None:
    with pytest.raises(AuditError, match="finding kind"):
        finding_body("decision", "sink-x", "d", time=T0)
