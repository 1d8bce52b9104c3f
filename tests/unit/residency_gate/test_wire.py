"""The one codec of routes and decisions: round trips, refusals naming the path, the OpenAPI schema."""

from __future__ import annotations

from typing import Any

import pytest

from residency_gate.errors import RouteError
from residency_gate.evaluate import FieldTag, Outcome, Route, SchemaRef, evaluate
from residency_gate.policy import load_policy_file
from residency_gate.wire import (
    EvaluateBatch,
    RouteModel,
    decision_from_dict,
    decision_to_dict,
    json_schema,
    routes_from_request,
)
from tests.unit.residency_gate.test_policytest import EXAMPLES


def test_a_decision_survives_the_wire_unchanged() -> None:
    policy = load_policy_file(EXAMPLES / "matrix.yaml")
    route = Route(
        "crm.customers",
        sink="fraud-us",
        purpose="fraud-detection",
        fields=(FieldTag("email", ("PII.email",)), FieldTag("phone", ("PII.phone",))),
        schema=SchemaRef("crm.customers-value", 4),
    )
    decision = evaluate(policy, route, decision_id="d-1")
    assert decision.outcome is Outcome.ALLOW_WITH_REDACTION
    assert decision_from_dict(decision_to_dict(decision)) == decision


def _decision_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "decision_id": "d",
        "outcome": "deny",
        "allowed": False,
        "reasons": ["no"],
        "redactions": [],
        "policy_version": "1",
        "policy_hash": "h",
        "route": {"dataset": "d", "sink": "s"},
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"allowed": True}, "'allowed' is True for outcome deny"),
        ({"outcome": "maybe"}, "route field 'outcome'"),
        ({"route": {"dataset": "d"}}, "needs 'destination_region' or 'sink'"),
        ({"reasons": "no"}, "route field 'reasons' must be a list"),
    ],
)
def test_a_malformed_decision_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(RouteError, match=problem):
        decision_from_dict(_decision_data(**changes))


def test_a_batch_names_the_route_at_fault() -> None:
    with pytest.raises(RouteError, match=r"routes\[1\]: route field 'dataset' is required"):
        routes_from_request({"routes": [{"dataset": "a", "sink": "b"}, {"sink": "b"}]})
    routes, batch = routes_from_request({"dataset": "a", "sink": "b"})
    assert (routes, batch) == ([Route("a", sink="b")], False)


def test_the_openapi_schema_is_self_contained() -> None:
    schema = json_schema(RouteModel | EvaluateBatch)
    assert "$ref" not in str(schema)
    assert "$defs" not in schema
    route, batch = schema["anyOf"]
    assert route["additionalProperties"] is False
    assert set(route["properties"]) == {
        "dataset", "destination_region", "sink", "source_region", "purpose", "fields", "schema",
    }  # fmt: skip
    assert batch["properties"]["routes"]["items"] == route
