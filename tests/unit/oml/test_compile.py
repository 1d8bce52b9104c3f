"""Compiling the example: deterministic bytes, fingerprints, the plan, column lineage and residency."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from oml.compile import compile_pipeline, verify_fingerprint
from oml.connections import Connections
from oml.context import StaticContext
from oml.errors import OmlCode, OmlInvalidError, RouteDeniedError
from oml.validate import validate
from tests.unit.oml.conftest import ENV


def _compile(text: str, connections: Connections, context: StaticContext, **params: Any) -> Any:
    pipeline = validate(text, connections=connections, env=ENV, params=params)
    return compile_pipeline(pipeline, context, source="p.oml.yaml")


def test_recompiling_gives_byte_identical_manifests(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    first = _compile(example_text, connections, context).text
    second = _compile(example_text, connections, context).text
    assert first == second
    assert json.loads(first)["fingerprints"]["manifest"] == json.loads(second)["fingerprints"]["manifest"]


def test_manifest_holds_no_secret_no_absolute_path_and_no_time(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    text = _compile(example_text, connections, context).text
    assert ENV["SPINE_TOKEN"] not in text
    assert '"token": "***"' in text
    assert str(Path.cwd()) not in text
    assert re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text) is None


def test_fingerprints_cover_the_oml_the_parameters_and_the_components(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    compiled = _compile(example_text, connections, context)
    prints = compiled.manifest["fingerprints"]
    assert prints["oml"] == hashlib.sha256(example_text.encode()).hexdigest()
    assert set(prints["components"]) == {s["component"] for s in compiled.manifest["steps"]}
    assert verify_fingerprint(compiled.manifest)
    other = _compile(example_text, connections, context, min_amount_cents="2000")
    assert other.manifest["fingerprints"]["params"] != prints["params"]
    assert other.fingerprint != compiled.fingerprint
    assert other.manifest["fingerprints"]["oml"] == prints["oml"]


def test_an_edited_manifest_fails_its_fingerprint(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    manifest = json.loads(_compile(example_text, connections, context).text)
    manifest["steps"][1]["config"]["where"] = "1"
    assert not verify_fingerprint(manifest)


def test_plan_lists_topics_sinks_schemas_and_a_decision_per_route(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    plan = _compile(example_text, connections, context).plan
    assert [(t["step"], t["topic"], t["version"]) for t in plan["topics_read"]] == [
        ("orders", "sales.orders.v1", 1)
    ]
    assert [(t["step"], t["topic"]) for t in plan["topics_written"]] == [
        ("to_topic", "analytics.paid_orders.v1")
    ]
    assert plan["dlq_topics"] == ["sales.orders.v1.dlq"]
    kinds = {(s["step"], s["kind"]) for s in plan["sinks"]}
    assert kinds == {("to_table", "sql"), ("to_topic", "topic")}
    assert [s["subject"] for s in plan["schemas"]] == ["analytics.paid_orders-value", "sales.orders-value"]
    routes = {(r["source_step"], r["target_step"]): r for r in plan["routes"]}
    assert set(routes) == {("orders", None), ("orders", "to_table"), ("orders", "to_topic")}
    for route in routes.values():
        decision = route["decision"]
        assert decision["outcome"] == "allow_with_redaction"
        assert decision["policy_version"] == "2026-12-01.1"
        assert [(r["field"], r["action"]) for r in decision["redactions"]] == [("customer_email", "drop")]
        assert any("internal-eu-to-us" in reason for reason in decision["reasons"])


def test_the_source_drops_what_the_gate_drops_and_lineage_follows_columns(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    steps = {s["id"]: s for s in _compile(example_text, connections, context).manifest["steps"]}
    assert steps["orders"]["redactions"] == {"customer_email": "drop"}
    assert "customer_email" not in steps["orders"]["columns"]
    assert steps["enriched"]["columns"]["amount_eur"] == ["sales.orders.amount_cents"]
    assert steps["shaped"]["columns"] == {
        "order_id": ["sales.orders.order_id"],
        "status": ["sales.orders.status"],
        "amount_cents": ["sales.orders.amount_cents"],
        "amount_eur": ["sales.orders.amount_cents"],
        "large": ["sales.orders.amount_cents"],
    }


def test_a_denied_route_fails_the_compile_with_the_gates_reasons(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    text = example_text.replace("region: us-east", "region: ap-south").replace(
        "sink: analytics-us\n      purpose", "purpose"
    )
    with pytest.raises(RouteDeniedError) as caught:
        _compile(text, connections, context)
    assert caught.value.exit_code == 1
    [first, *_] = caught.value.issues
    assert first.code is OmlCode.ROUTE_DENIED
    assert first.path == "steps[0]"
    assert "ap-south" in first.message
    assert "no rule allows" in first.message


def test_a_column_the_gate_drops_cannot_be_read_downstream(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    text = example_text.replace(
        "        status: status\n", "        status: status\n        email: customer_email\n"
    )
    with pytest.raises(OmlInvalidError) as caught:
        _compile(text, connections, context)
    [issue] = caught.value.issues
    assert (issue.code, issue.path) == (OmlCode.UNKNOWN_COLUMN, "steps[4].config.columns")
    assert "customer_email" in issue.message
