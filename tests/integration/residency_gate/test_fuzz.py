"""Arbitrary JSON to the gate's write endpoints never gets a 5xx, and a route is never allowed by accident."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spine.auth import Role
from tests.integration.residency_gate.gate import Gate

pytestmark = pytest.mark.integration

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
route_like = st.fixed_dictionaries(
    {},
    optional={
        "dataset": st.sampled_from(["sales.orders", "crm.customers", "nope"]) | json_values,
        "sink": st.sampled_from(["eu-warehouse", "us-analytics", "nope"]) | json_values,
        "destination_region": st.sampled_from(["eu", "us", "mars"]) | json_values,
        "source_region": st.sampled_from(["eu", "us"]) | json_values,
        "purpose": json_values,
        "fields": st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(min_size=1, max_size=8),
                    "tags": st.lists(st.sampled_from(["PII", "PII.email", "x"])),
                }
            ),
            max_size=3,
        )
        | json_values,
    },
)
bodies = (
    route_like
    | st.fixed_dictionaries({"routes": st.lists(route_like, max_size=4) | json_values})
    | json_values
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_evaluate_body_gets_decisions_or_a_4xx_error(gate: Gate, body: Any) -> None:
    response = gate.post("/v1/evaluate", role=Role.PRODUCER, content=json.dumps(body).encode())
    assert response.status_code in (200, 422), response.text
    payload = response.json()
    if response.status_code == 422:
        assert set(payload) == {"error_code", "message"}
        return
    for decision in payload["decisions"]:
        route = decision["route"]
        if decision["allowed"]:
            assert route["dataset"] in {"sales.orders", "crm.customers"}
            assert route["sink"] in {None, "eu-warehouse", "us-analytics"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | st.text(max_size=200))
def test_any_policy_body_is_accepted_or_refused_with_a_4xx(gate: Gate, body: Any) -> None:
    before = gate.get("/v1/policy").json()["hash"]
    content = body if isinstance(body, str) else json.dumps(body)
    response = gate.post("/v1/policy", content=content.encode())
    assert response.status_code in (422, 409), response.text
    assert set(response.json()) == {"error_code", "message"}
    assert gate.get("/v1/policy").json()["hash"] == before
