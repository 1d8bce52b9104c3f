"""Exhaustive check of a small matrix: every dataset x source region x destination (region or sink).

A route may start only where the dataset has a copy (its home or a replica): ``d.homeonly`` has none
outside ``eu``, so every route claiming another source is denied whatever the rules say.

The expected outcomes below were worked out by hand from the rules, not by running the evaluator.
"""

from __future__ import annotations

import pytest

from residency_gate.evaluate import FieldTag, Outcome, Route, evaluate
from residency_gate.policy import load_policy_text

SMALL_MATRIX = """
version: "small-1"
regions: [eu, us, ap]
classifications: [PUBLIC, INTERNAL, PII]
datasets:
  d.public: {home: eu, classification: PUBLIC, replicas: [us, ap]}
  d.internal: {home: eu, classification: INTERNAL, replicas: [us, ap]}
  d.pii: {home: eu, classification: PII, replicas: [us, ap]}
  d.homeonly: {home: eu, classification: INTERNAL}
sinks:
  s.eu: {region: eu, allowed_classifications: [PUBLIC, INTERNAL, PII]}
  s.us: {region: us, allowed_classifications: [PUBLIC, INTERNAL]}
rules:
  - id: public-anywhere
    allow: {classification: PUBLIC}
  - id: internal-eu-us
    allow: {classification: INTERNAL, from: [eu, us], to: [eu, us]}
  - id: pii-home
    allow: {classification: PII, from: eu, to: eu}
  - id: pii-us-masked
    allow: {dataset: d.pii, from: eu, to: us, redact: {fields_tagged: [PII], action: mask}}
  - id: no-internal-to-ap
    deny: {classification: INTERNAL, to: ap}
  - id: nothing-from-ap-to-us
    deny: {from: ap, to: us}
"""

A, D, R = Outcome.ALLOW, Outcome.DENY, Outcome.ALLOW_WITH_REDACTION
DESTINATIONS = ("eu", "us", "ap", "s.eu", "s.us")

# dataset, source region -> outcomes for destinations eu, us, ap, s.eu, s.us
EXPECTED: dict[tuple[str, str], tuple[Outcome, Outcome, Outcome, Outcome, Outcome]] = {
    ("d.public", "eu"): (A, A, A, A, A),
    ("d.public", "us"): (A, A, A, A, A),
    ("d.public", "ap"): (A, D, A, A, D),
    ("d.internal", "eu"): (A, A, D, A, A),
    ("d.internal", "us"): (A, A, D, A, A),
    ("d.internal", "ap"): (D, D, D, D, D),
    ("d.pii", "eu"): (A, R, D, A, R),
    ("d.pii", "us"): (D, D, D, D, D),
    ("d.pii", "ap"): (D, D, D, D, D),
    ("d.homeonly", "eu"): (A, A, D, A, A),
    ("d.homeonly", "us"): (D, D, D, D, D),
    ("d.homeonly", "ap"): (D, D, D, D, D),
}

FIELDS = {
    "d.public": (),
    "d.internal": (FieldTag("order_id", ()),),
    "d.homeonly": (FieldTag("order_id", ()),),
    "d.pii": (FieldTag("email", ("PII",)), FieldTag("customer_id", ())),
}

CASES = [
    (dataset, source, destination, outcome)
    for (dataset, source), outcomes in EXPECTED.items()
    for destination, outcome in zip(DESTINATIONS, outcomes, strict=True)
]


def test_table_covers_every_dataset_region_and_sink() -> None:
    policy = load_policy_text(SMALL_MATRIX)
    combinations = {(d, s, t) for d, s, t, _ in CASES}
    assert len(combinations) == len(policy.datasets) * len(policy.regions) * (
        len(policy.regions) + len(policy.sinks)
    )


@pytest.mark.parametrize(("dataset", "source", "destination", "expected"), CASES)
def test_small_matrix_outcome(dataset: str, source: str, destination: str, expected: Outcome) -> None:
    policy = load_policy_text(SMALL_MATRIX)
    is_sink = destination.startswith("s.")
    route = Route(
        dataset,
        destination_region=None if is_sink else destination,
        sink=destination if is_sink else None,
        source_region=source,
        fields=FIELDS[dataset],
    )
    decision = evaluate(policy, route)
    assert decision.outcome is expected, decision.reasons
    if dataset == "d.homeonly" and source != "eu":
        assert decision.reasons == (
            f"dataset d.homeonly has no copy in {source}: its home is eu and the matrix records replicas "
            "in no region",
        )
    assert decision.reasons
    if expected is R:
        assert [(r.field, r.action) for r in decision.redactions] == [("email", "mask")]
    else:
        assert decision.redactions == ()
