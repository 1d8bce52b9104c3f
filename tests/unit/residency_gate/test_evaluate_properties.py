"""Properties of evaluation over generated routes: never raises, never fails open, denies stay denied."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from residency_gate.evaluate import FieldTag, Outcome, Route, evaluate
from residency_gate.policy import Policy, load_policy_document, load_policy_file

EXAMPLE = load_policy_file(Path(__file__).resolve().parents[3] / "examples" / "residency" / "matrix.yaml")


def _names(known: Iterable[str], *unknown: str) -> st.SearchStrategy[str]:
    return st.sampled_from([*sorted(known), *unknown])


TAGS = st.lists(_names(EXAMPLE.classifications, "SECRET"), max_size=2).map(tuple)
FIELDS = st.lists(
    st.builds(FieldTag, st.sampled_from(["a", "b", "c", "d"]), TAGS), max_size=3, unique_by=lambda f: f.name
)
ROUTES = st.builds(
    Route,
    dataset=_names(EXAMPLE.datasets, "unknown.dataset"),
    destination_region=st.none() | _names(EXAMPLE.regions, "mars"),
    sink=st.none() | _names(EXAMPLE.sinks, "rogue-sink"),
    source_region=st.none() | _names(EXAMPLE.regions, "moon"),
    purpose=st.none() | st.sampled_from(["fraud-detection", "marketing"]),
    fields=FIELDS.map(tuple),
)


def _with_rules(policy: Policy, extra: list[dict[str, object]]) -> Policy:
    document = dict(policy.document)
    document["rules"] = [*document["rules"], *extra]
    return load_policy_document(document)


@settings(max_examples=300, deadline=None)
@given(ROUTES)
def test_every_route_gets_a_decision_with_reasons_and_unknown_names_are_denied(route: Route) -> None:
    decision = evaluate(EXAMPLE, route)
    assert decision.reasons
    unknown = {route.dataset, route.destination_region, route.sink, route.source_region} & {
        "unknown.dataset",
        "mars",
        "rogue-sink",
        "moon",
    }
    if unknown or any("SECRET" in f.tags for f in route.fields):
        assert decision.outcome is Outcome.DENY
    if decision.outcome is Outcome.ALLOW_WITH_REDACTION:
        assert decision.redactions
    else:
        assert decision.redactions == ()
    assert {r.field for r in decision.redactions} <= {f.name for f in route.fields}


@settings(max_examples=200, deadline=None)
@given(ROUTES)
def test_a_policy_without_allow_rules_denies_every_route(route: Route) -> None:
    document = dict(EXAMPLE.document)
    document["rules"] = [rule for rule in document["rules"] if "deny" in rule]
    assert evaluate(load_policy_document(document), route).outcome is Outcome.DENY


US_TO_EU_CENTRAL_LOCKED = _with_rules(
    EXAMPLE, [{"id": "lockdown", "deny": {"to": "eu-central", "from": "us-east"}}]
)


@settings(max_examples=300, deadline=None)
@given(ROUTES)
def test_adding_a_deny_rule_never_allows_more(route: Route) -> None:
    before = evaluate(EXAMPLE, route)
    after = evaluate(US_TO_EU_CENTRAL_LOCKED, route)
    if before.outcome is Outcome.DENY:
        assert after.outcome is Outcome.DENY
    if after.outcome is not Outcome.DENY:
        assert after.outcome is before.outcome


@settings(max_examples=200, deadline=None)
@given(ROUTES, st.frozensets(_names(EXAMPLE.sinks, "rogue-sink")))
def test_a_quarantined_sink_is_always_denied(route: Route, quarantined: frozenset[str]) -> None:
    decision = evaluate(EXAMPLE, route, quarantined=quarantined)
    if route.sink in quarantined:
        assert decision.reasons == (f"sink {route.sink} is quarantined",)
