"""Evaluation semantics: deny by default, deny beats allow, purpose, quarantine, unknown names, redaction."""

from __future__ import annotations

from typing import Any

import pytest

from residency_gate.errors import RouteError
from residency_gate.evaluate import FieldTag, Outcome, Route, SchemaRef, evaluate
from residency_gate.policy import Policy, empty_policy, load_policy_text
from residency_gate.wire import decision_to_dict, route_from_dict, route_to_dict

MATRIX = """
version: "2026-12-01.1"
regions: [eu-west, eu-central, us-east, ap-south]
classifications: [PUBLIC, INTERNAL, PII, PII.email, PII.financial]
datasets:
  sales.orders: {home: eu-west, classification: INTERNAL}
  crm.customers: {home: eu-west, classification: PII}
sinks:
  analytics-eu: {region: eu-central, allowed_classifications: [PUBLIC, INTERNAL, PII]}
  analytics-us: {region: us-east, allowed_classifications: [PUBLIC, INTERNAL]}
rules:
  - id: eu-internal-flows
    allow: {classification: INTERNAL, from: [eu-west], to: [eu-central, us-east, ap-south]}
  - id: customers-to-us-redacted
    allow:
      dataset: crm.customers
      from: [eu-west]
      to: [us-east]
      redact: {fields_tagged: [PII], action: mask}
      purpose: [fraud-detection]
  - id: financial-dropped-in-us
    allow:
      classification: INTERNAL
      to: us-east
      sink: analytics-us
      redact: {fields_tagged: [PII.financial], action: drop}
  - id: never-ap
    deny: {to: [ap-south], classification: [INTERNAL, PII]}
"""

EMAIL = FieldTag("email", ("PII.email",))
CARD = FieldTag("card", ("PII.financial",))
PLAIN = FieldTag("order_id", ())


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy_text(MATRIX)


def test_allowed_route_names_the_allowing_rule_and_carries_the_policy(policy: Policy) -> None:
    decision = evaluate(policy, Route("sales.orders", destination_region="eu-central"), decision_id="d-1")
    assert decision.outcome is Outcome.ALLOW
    assert decision.allowed
    assert decision.reasons == (
        "rule eu-internal-flows allows sales.orders (INTERNAL) from eu-west to eu-central",
    )
    assert (decision.policy_version, decision.policy_hash) == ("2026-12-01.1", policy.hash)
    assert (decision.decision_id, decision.classification) == ("d-1", "INTERNAL")
    assert (decision.source_region, decision.destination_region) == ("eu-west", "eu-central")


def test_decision_ids_are_unique_when_not_given(policy: Policy) -> None:
    route = Route("sales.orders", destination_region="eu-central")
    assert evaluate(policy, route).decision_id != evaluate(policy, route).decision_id


def test_explicit_deny_overrides_an_allow_for_the_same_route(policy: Policy) -> None:
    decision = evaluate(policy, Route("sales.orders", destination_region="ap-south"))
    assert decision.outcome is Outcome.DENY
    assert not decision.allowed
    assert decision.reasons == ("rule never-ap denies sales.orders (INTERNAL) from eu-west to ap-south",)


def test_route_no_rule_allows_is_denied_by_default(policy: Policy) -> None:
    decision = evaluate(policy, Route("crm.customers", destination_region="eu-central"))
    assert decision.outcome is Outcome.DENY
    assert decision.reasons == ("no rule allows crm.customers (PII) from eu-west to eu-central",)


def test_empty_policy_denies_everything() -> None:
    decision = evaluate(empty_policy(), Route("sales.orders", destination_region="eu-west"))
    assert decision.outcome is Outcome.DENY
    assert decision.policy_version == "0"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (
            Route("hr.salaries", destination_region="eu-west"),
            "dataset hr.salaries is not in the residency matrix",
        ),
        (
            Route("sales.orders", destination_region="mars"),
            "destination region mars is not in the residency matrix",
        ),
        (
            Route("sales.orders", destination_region="eu-west", source_region="moon"),
            "source region moon is not in the residency matrix",
        ),
        (Route("sales.orders", sink="shadow-lake"), "sink shadow-lake is not in the residency matrix"),
        (Route("sales.orders"), "the route names neither a destination region nor a sink"),
        (
            Route("sales.orders", sink="analytics-eu", destination_region="us-east"),
            "sink analytics-eu is in eu-central, not in the route's destination region us-east",
        ),
    ],
)
def test_unknown_or_inconsistent_names_are_denied_with_a_reason_naming_them(
    policy: Policy, route: Route, reason: str
) -> None:
    decision = evaluate(policy, route)
    assert decision.outcome is Outcome.DENY
    assert decision.reasons == (reason,)


def test_quarantined_sink_is_denied_even_when_rules_allow(policy: Policy) -> None:
    route = Route("sales.orders", sink="analytics-eu")
    assert evaluate(policy, route).outcome is Outcome.ALLOW
    decision = evaluate(policy, route, quarantined=frozenset({"analytics-eu"}))
    assert decision.outcome is Outcome.DENY
    assert decision.reasons == ("sink analytics-eu is quarantined",)
    assert decision.destination_region == "eu-central"


def test_quarantine_applies_to_sinks_outside_the_matrix_too(policy: Policy) -> None:
    decision = evaluate(policy, Route("sales.orders", sink="rogue"), quarantined=frozenset({"rogue"}))
    assert decision.reasons == ("sink rogue is quarantined",)


def test_sink_must_accept_the_dataset_classification() -> None:
    text = MATRIX + "  - id: pii-eu\n    allow: {classification: PII, to: [eu-central, us-east]}\n"
    decision = evaluate(load_policy_text(text), Route("crm.customers", sink="analytics-us"))
    assert decision.outcome is Outcome.DENY
    assert decision.reasons == ("sink analytics-us does not accept classification PII",)


def test_purpose_restricted_allow_applies_only_for_that_purpose(policy: Policy) -> None:
    fields = (EMAIL, FieldTag("customer_id", ()))
    without = evaluate(policy, Route("crm.customers", destination_region="us-east", fields=fields))
    assert without.outcome is Outcome.DENY
    other = evaluate(
        policy, Route("crm.customers", destination_region="us-east", purpose="marketing", fields=fields)
    )
    assert other.outcome is Outcome.DENY
    assert "for purpose marketing" in other.reasons[0]
    fraud = evaluate(
        policy, Route("crm.customers", destination_region="us-east", purpose="fraud-detection", fields=fields)
    )
    assert fraud.outcome is Outcome.ALLOW_WITH_REDACTION


def test_pii_field_is_masked_where_the_allowing_rule_says_redact(policy: Policy) -> None:
    route = Route("crm.customers", sink="analytics-us", purpose="fraud-detection", fields=(EMAIL, PLAIN))
    decision = evaluate(policy, route)
    assert decision.outcome is Outcome.ALLOW_WITH_REDACTION
    assert [(r.field, r.action, r.tags) for r in decision.redactions] == [("email", "mask", ("PII.email",))]
    assert "customers-to-us-redacted" in decision.redactions[0].reason
    assert decision.reasons[0] == (
        "rule customers-to-us-redacted allows crm.customers (PII) from eu-west to sink analytics-us "
        "(us-east) for purpose fraud-detection provided fields tagged PII are masked"
    )
    assert decision.reasons[-1] == decision.redactions[0].reason


def test_redaction_rule_cannot_apply_without_field_tags(policy: Policy) -> None:
    decision = evaluate(
        policy, Route("crm.customers", destination_region="us-east", purpose="fraud-detection")
    )
    assert decision.outcome is Outcome.DENY
    assert "no field of the route is tagged PII" in decision.reasons[0]


def test_unpermitted_field_without_a_redacting_rule_denies_the_whole_route(policy: Policy) -> None:
    decision = evaluate(policy, Route("sales.orders", destination_region="eu-central", fields=(PLAIN, EMAIL)))
    assert decision.outcome is Outcome.DENY
    assert decision.reasons == (
        "field email (PII.email) may not move: no rule allows PII.email to eu-central",
    )


def test_financial_field_is_dropped_for_the_us_sink_by_a_sibling_redaction_rule(policy: Policy) -> None:
    decision = evaluate(policy, Route("sales.orders", sink="analytics-us", fields=(PLAIN, CARD)))
    assert decision.outcome is Outcome.ALLOW_WITH_REDACTION
    assert [(r.field, r.action) for r in decision.redactions] == [("card", "drop")]
    assert decision.reasons[0] == (
        "rule eu-internal-flows allows sales.orders (INTERNAL) from eu-west to sink analytics-us (us-east)"
    )


def test_field_tag_outside_the_matrix_denies(policy: Policy) -> None:
    decision = evaluate(
        policy, Route("sales.orders", sink="analytics-eu", fields=(FieldTag("x", ("SECRET",)),))
    )
    assert decision.reasons == ("field x carries tag SECRET, which is not a classification in the matrix",)


def test_untagged_fields_never_need_redaction(policy: Policy) -> None:
    decision = evaluate(policy, Route("sales.orders", sink="analytics-eu", fields=(PLAIN,)))
    assert decision.outcome is Outcome.ALLOW


def test_decision_to_dict_holds_field_names_and_tags_only(policy: Policy) -> None:
    route = Route("crm.customers", sink="analytics-us", purpose="fraud-detection", fields=(EMAIL,))
    data = decision_to_dict(evaluate(policy, route, decision_id="d-9"))
    assert data["outcome"] == "allow_with_redaction"
    assert data["allowed"] is True
    assert data["redactions"][0]["field"] == "email"
    assert data["route"] == {
        "dataset": "crm.customers",
        "destination_region": None,
        "sink": "analytics-us",
        "source_region": None,
        "purpose": "fraud-detection",
        "fields": [{"name": "email", "tags": ["PII.email"]}],
    }
    assert data["destination_region"] == "us-east"


def test_route_from_dict_builds_a_route() -> None:
    route = route_from_dict(
        {
            "dataset": "crm.customers",
            "sink": "analytics-us",
            "fields": [{"name": "email", "tags": ["PII.email"]}],
        }
    )
    assert route == Route("crm.customers", sink="analytics-us", fields=(EMAIL,))
    assert route_from_dict(route_to_dict(route)) == route


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sink": "s"}, "'dataset' is required"),
        ({"dataset": "d"}, "needs 'destination_region' or 'sink'"),
        ({"dataset": "d", "sink": "s", "region": "x"}, "unknown route field 'region'"),
        ({"dataset": 3, "sink": "s"}, "'dataset' must be a non-empty string"),
        ({"dataset": "d", "sink": "s", "fields": "email"}, "'fields' must be a list"),
        ({"dataset": "d", "sink": "s", "fields": [{"name": "e", "tags": "PII"}]}, "fields[0].tags"),
        ({"dataset": "d", "sink": "s", "fields": [{"tags": []}]}, "fields[0].name"),
        (
            {"dataset": "d", "sink": "s", "fields": [{"name": "e"}, {"name": "e"}]},
            "fields[1].name 'e' is listed twice",
        ),
    ],
)
def test_route_from_dict_rejects_malformed_routes(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RouteError) as info:
        route_from_dict(data)
    assert message in str(info.value)


def test_repeated_evaluations_agree_when_served_from_the_match_cache(policy: Policy) -> None:
    route = Route("sales.orders", sink="analytics-us", fields=(CARD,))
    first = evaluate(policy, route, decision_id="x")
    assert all(evaluate(policy, route, decision_id="x") == first for _ in range(3))


# --- holes found in review: each of these was allowed before ----------------------------------------------

HOLES = """
version: "holes-1"
regions: [eu-west, us-east]
classifications: [INTERNAL, PII, PII.email]
datasets:
  crm.customers: {home: eu-west, classification: PII}
  sales.orders: {home: eu-west, classification: INTERNAL, replicas: [us-east], subject: sales.orders-value}
  web.visits: {home: us-east, classification: INTERNAL}
  web.ads: {home: us-east, classification: INTERNAL}
sinks:
  wh-us: {region: us-east, allowed_classifications: [INTERNAL]}
  lake-us: {region: us-east, allowed_classifications: [INTERNAL]}
rules:
  - id: customers-to-us-dropped
    allow: {dataset: crm.customers, to: us-east, redact: {fields_tagged: [PII], action: drop}}
  - id: internal-to-us
    allow: {classification: INTERNAL, to: us-east}
  - id: internal-us-local
    allow: {classification: INTERNAL, from: us-east, to: us-east}
  - id: no-visits-in-wh-us
    deny: {dataset: web.visits, to: us-east, sink: wh-us}
  - id: no-marketing-use
    deny: {dataset: web.ads, purpose: marketing}
"""


@pytest.fixture(scope="module")
def holes() -> Policy:
    return load_policy_text(HOLES)


def test_only_untagged_fields_on_a_pii_dataset_cannot_pass_a_redacting_rule(holes: Policy) -> None:
    route = Route("crm.customers", sink="wh-us", fields=(FieldTag("email", ()), FieldTag("id", ())))
    decision = evaluate(holes, route)
    assert decision.outcome is Outcome.DENY
    assert "no field of the route is tagged PII, so which fields carry it is unknown" in decision.reasons[0]


def test_a_pii_dataset_with_its_pii_fields_tagged_passes_the_redacting_rule(holes: Policy) -> None:
    route = Route("crm.customers", sink="wh-us", fields=(EMAIL, FieldTag("id", ())))
    decision = evaluate(holes, route)
    assert decision.outcome is Outcome.ALLOW_WITH_REDACTION
    assert [(r.field, r.action) for r in decision.redactions] == [("email", "drop")]


def test_a_dataset_tied_to_a_subject_is_denied_when_its_route_was_not_read_from_it(holes: Policy) -> None:
    unresolved = evaluate(holes, Route("sales.orders", sink="wh-us", fields=(PLAIN,)))
    assert unresolved.outcome is Outcome.DENY
    assert unresolved.reasons == (
        "dataset sales.orders takes its field tags from registry subject sales.orders-value, "
        "and the route names no schema",
    )
    other = evaluate(holes, Route("sales.orders", sink="wh-us", schema=SchemaRef("crm.customers-value", 2)))
    assert other.outcome is Outcome.DENY
    assert "the route names subject crm.customers-value" in other.reasons[0]
    read = evaluate(holes, Route("sales.orders", sink="wh-us", schema=SchemaRef("sales.orders-value", 2)))
    assert read.outcome is Outcome.ALLOW


def test_a_deny_rule_naming_a_sink_covers_a_route_that_names_no_sink(holes: Policy) -> None:
    decision = evaluate(holes, Route("web.visits", destination_region="us-east"))
    assert decision.outcome is Outcome.DENY
    assert decision.reasons[0].startswith("rule no-visits-in-wh-us denies web.visits")
    assert evaluate(holes, Route("web.visits", sink="lake-us")).outcome is Outcome.ALLOW


def test_a_deny_rule_naming_a_purpose_covers_a_route_that_states_none(holes: Policy) -> None:
    decision = evaluate(holes, Route("web.ads", sink="lake-us", purpose="reporting"))
    assert decision.outcome is Outcome.ALLOW
    assert evaluate(holes, Route("web.ads", sink="lake-us", purpose="marketing")).outcome is Outcome.DENY
    # No purpose stated could be any purpose, marketing included.
    unstated = evaluate(holes, Route("web.ads", sink="lake-us"))
    assert unstated.outcome is Outcome.DENY
    assert unstated.reasons[0].startswith("rule no-marketing-use denies web.ads")


def test_a_source_region_is_allowed_only_where_the_dataset_has_a_copy(holes: Policy) -> None:
    claimed = evaluate(holes, Route("crm.customers", source_region="us-east", sink="wh-us", fields=(EMAIL,)))
    assert claimed.outcome is Outcome.DENY
    assert claimed.reasons == (
        "dataset crm.customers has no copy in us-east: its home is eu-west and the matrix records "
        "replicas in no region",
    )
    replica = Route(
        "sales.orders", source_region="us-east", sink="wh-us", schema=SchemaRef("sales.orders-value", 1)
    )
    assert evaluate(holes, replica).outcome is Outcome.ALLOW
