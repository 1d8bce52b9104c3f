"""The gate's lineage: a run's decisions as a spine_residency run facet, and the run on the wire."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from openlineage.client.serde import Serde

from lineage.emit import RESIDENCY_FACET
from residency_gate.errors import RouteError
from residency_gate.evaluate import FieldTag, Route, RunRef, SchemaRef, evaluate
from residency_gate.lineage import decisions_event
from residency_gate.policy import load_policy_file
from residency_gate.wire import routes_from_request, run_from_request, run_to_dict
from tests.unit.lineage.spec import validate_event
from tests.unit.residency_gate.test_policytest import EXAMPLES

RUN = RunRef(str(uuid.uuid4()), "data-spine", "cdc.crm-to-us")


def decided() -> list[Any]:
    policy = load_policy_file(EXAMPLES / "matrix.yaml")
    routes = [
        Route(
            "crm.customers",
            sink="fraud-us",
            purpose="fraud-detection",
            fields=(FieldTag("email", ("PII.email",)), FieldTag("phone", ("PII.phone",))),
            schema=SchemaRef("crm.customers-value", 4),
        ),
        Route("nowhere.known", destination_region="us"),
    ]
    return [evaluate(policy, route, decision_id=f"d-{n}") for n, route in enumerate(routes)]


def event_data() -> dict[str, Any]:
    event = decisions_event(RUN, decided(), when=datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    data: dict[str, Any] = json.loads(Serde.to_json(event))
    return data


def test_the_decisions_event_validates_against_the_spec_and_its_facet_schema() -> None:
    validate_event(event_data())


def test_the_event_is_other_on_the_callers_run_and_job() -> None:
    data = event_data()
    assert data["eventType"] == "OTHER"
    assert data["run"]["runId"] == RUN.run_id
    assert data["job"] == {"namespace": "data-spine", "name": "cdc.crm-to-us", "facets": {}}


def test_each_evaluated_route_is_listed_with_outcome_regions_and_redactions() -> None:
    decisions = decided()
    listed = event_data()["run"]["facets"][RESIDENCY_FACET]["decisions"]
    assert [d["decision_id"] for d in listed] == ["d-0", "d-1"]
    redacted = listed[0]
    assert redacted["outcome"] == decisions[0].outcome.value
    assert redacted["sink"] == "fraud-us"
    assert redacted["redacted_fields"] == [
        {"field": r.field, "action": r.action} for r in decisions[0].redactions
    ]
    assert redacted["redacted_fields"], "the fixture route is redacted"
    assert redacted["policy_version"] == decisions[0].policy_version
    assert listed[1]["outcome"] == "deny"


def test_a_batch_may_name_its_run() -> None:
    payload = {"routes": [{"dataset": "a", "sink": "b"}], "run": run_to_dict(RUN)}
    routes, batch = routes_from_request(payload)
    assert (routes, batch) == ([Route("a", sink="b")], True)
    assert run_from_request(payload) == RUN
    assert run_from_request({"routes": [{"dataset": "a", "sink": "b"}]}) is None


@pytest.mark.parametrize(
    ("run", "problem"),
    [
        (
            {"run_id": "not-a-uuid", "job": {"namespace": "n", "name": "j"}},
            "run field 'run_id' must be a UUID",
        ),
        ({"run_id": str(uuid.uuid4())}, "run field 'job' is required"),
        ({"run_id": str(uuid.uuid4()), "job": {"namespace": "", "name": "j"}}, "run field 'job.namespace'"),
        (
            {"run_id": str(uuid.uuid4()), "job": {"namespace": "n", "name": "j"}, "x": 1},
            "unknown run field 'x'",
        ),
    ],
)
def test_a_malformed_run_is_refused_naming_the_field(run: dict[str, Any], problem: str) -> None:
    with pytest.raises(RouteError, match=problem):
        run_from_request({"routes": [{"dataset": "a", "sink": "b"}], "run": run})


def test_a_run_belongs_to_a_batch_not_to_a_single_route() -> None:
    with pytest.raises(RouteError, match="unknown route field 'run'"):
        routes_from_request({"dataset": "a", "sink": "b", "run": run_to_dict(RUN)})
