"""The OpenLineage events of a CDC batch, validated against the shipped OpenLineage spec: pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from openlineage.client.serde import Serde

from cdc.lineage import batch_events, job_name
from cdc.router import gate_route
from cdc.routes import parse_routes
from residency_gate.evaluate import Decision, Outcome, Redaction
from tests.unit.lineage.spec import validate_event

ROUTES = parse_routes(
    """source:
  name: shop
  dsn: host=db.internal port=5433 user=cdc password=${PW} dbname=shop
  region: eu-west
sinks:
  analytics: {url: "postgresql://u:${PW}@warehouse:5432/analytics"}
routes:
  - table: public.customers
    name: customers
    dataset: crm.customers
    sink: analytics
    sink_table: crm_customers
    key: [id]
    fields: {email: [PII.email]}
""",
    "r.yaml",
    {"PW": "secret"},
)
ROUTE = ROUTES.route("customers")
SINK_URL = ROUTES.sinks["analytics"].url.get_secret_value()
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)


def decision() -> Decision:
    return Decision(
        decision_id="dec-1",
        outcome=Outcome.ALLOW_WITH_REDACTION,
        reasons=("rule pii-within-eu",),
        redactions=(Redaction("email", "mask", "PII.email"),),
        policy_version="v7",
        policy_hash="abc",
        route=gate_route(ROUTES, ROUTE),
        classification="PII",
        source_region="eu-west",
        destination_region="eu-central",
    )


def as_json(event: object) -> dict[str, object]:
    return json.loads(Serde.to_json(event))  # type: ignore[no-any-return]


def test_a_committed_batch_is_a_start_and_a_complete_of_one_run_that_validate() -> None:
    start, complete = (
        as_json(e) for e in batch_events(ROUTES, ROUTE, SINK_URL, [decision()], started=T0, ended=T1)
    )
    for event in (start, complete):
        validate_event(event)
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert start["run"]["runId"] == complete["run"]["runId"]  # type: ignore[index]
    assert complete["job"] == {"namespace": "data-spine", "name": "cdc.shop.customers", "facets": {}}
    assert job_name(ROUTES, ROUTE) == "cdc.shop.customers"
    assert [(d["namespace"], d["name"]) for d in complete["inputs"]] == [  # type: ignore[attr-defined]
        ("postgres://db.internal:5433", "shop.public.customers")
    ]
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [  # type: ignore[attr-defined]
        ("postgresql://warehouse:5432/analytics", "crm_customers")
    ]
    facet = complete["run"]["facets"]["spine_residency"]  # type: ignore[index]
    assert [d["decision_id"] for d in facet["decisions"]] == ["dec-1"]
    assert facet["decisions"][0]["redacted_fields"] == [{"field": "email", "action": "mask"}]
    assert "secret" not in json.dumps([start, complete])  # never the sink's credentials


def test_a_failed_batch_ends_its_run_with_fail_and_the_error() -> None:
    events = batch_events(ROUTES, ROUTE, SINK_URL, [decision()], started=T0, ended=T1, failure="sink down")
    _, fail = (as_json(e) for e in events)
    validate_event(fail)
    assert fail["eventType"] == "FAIL"
    assert fail["run"]["facets"]["errorMessage"]["message"] == "sink down"  # type: ignore[index]
    only_start = batch_events(
        ROUTES, ROUTE, SINK_URL, [], started=T0, run_id="0190a0c2-0000-7000-8000-000000000001"
    )
    assert [as_json(e)["eventType"] for e in only_start] == ["START"]
    assert "spine_residency" not in as_json(only_start[0])["run"]["facets"]  # type: ignore[index]
    validate_event(as_json(only_start[0]))
