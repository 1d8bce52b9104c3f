"""Table-driven policy tests: the example cases pass, mismatches reported, bad case files name a line."""

from __future__ import annotations

from pathlib import Path

import pytest

from residency_gate.errors import PolicyError
from residency_gate.evaluate import Outcome
from residency_gate.policy import load_policy_file
from residency_gate.policytest import load_cases, parse_cases, run_cases

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "residency"


def test_every_example_case_passes_against_the_example_matrix() -> None:
    policy = load_policy_file(EXAMPLES / "matrix.yaml")
    results = run_cases(policy, load_cases(EXAMPLES / "cases.yaml"))
    assert len(results) >= 20
    failed = [(r.name, r.expected, r.actual, r.reasons) for r in results if not r.passed]
    assert failed == []
    assert {r.actual for r in results} == {o.value for o in Outcome}


def test_wrong_expectation_is_reported_as_a_failure_with_reasons() -> None:
    policy = load_policy_file(EXAMPLES / "matrix.yaml")
    cases = parse_cases(
        "cases:\n"
        "  - name: payments to the US\n"
        "    route: {dataset: billing.payments, sink: analytics-us}\n"
        "    expect: allow\n"
    )
    [result] = run_cases(policy, cases)
    assert not result.passed
    assert (result.expected, result.actual, result.line) == ("allow", "deny", 2)
    assert "no-financial-outside-eu" in result.reasons[0]


def test_wrong_redaction_list_fails_even_when_the_outcome_matches() -> None:
    policy = load_policy_file(EXAMPLES / "matrix.yaml")
    cases = parse_cases(
        "cases:\n"
        "  - name: orders to US\n"
        "    route: {dataset: crm.customers, sink: analytics-us, purpose: fraud-detection,\n"
        "            fields: [{name: e, tags: [PII.email]}]}\n"
        "    expect: allow_with_redaction\n"
        "    redact: [phone]\n"
    )
    [result] = run_cases(policy, cases)
    assert not result.passed
    assert (result.expected_redactions, result.actual_redactions) == (("phone",), ("e",))


def test_a_case_for_a_dataset_linked_to_a_subject_needs_the_registry_tags() -> None:
    policy = load_policy_file(EXAMPLES / "matrix.yaml")
    cases = parse_cases(
        "cases:\n"
        "  - name: orders to US without tags\n"
        "    route: {dataset: sales.orders, sink: analytics-us}\n"
        "    expect: allow\n"
    )
    [result] = run_cases(policy, cases)
    assert not result.passed
    assert result.actual == "error"
    assert "takes its field tags from registry subject sales.orders-value" in result.reasons[0]


def test_schema_fields_are_a_floor_the_route_fields_only_add_to() -> None:
    policy = load_policy_file(EXAMPLES / "matrix.yaml")
    cases = parse_cases(
        "cases:\n"
        "  - name: orders to US, email claimed untagged\n"
        "    route: {dataset: sales.orders, sink: analytics-us, fields: [{name: customer_email, tags: []}]}\n"
        "    schema_fields: [{name: customer_email, tags: [PII.email]}]\n"
        "    expect: allow_with_redaction\n"
        "    redact: [customer_email]\n"
    )
    [result] = run_cases(policy, cases)
    assert result.passed, result.reasons


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            "cases:\n  - name: a\n    route: {dataset: d, sink: s}\n    expect: maybe\n",
            4,
            "expect must be one of",
        ),
        (
            "cases:\n  - name: a\n    route: {dataset: d}\n    expect: deny\n",
            3,
            "needs 'destination_region' or 'sink'",
        ),
        (
            "cases:\n  - name: a\n    route: {dataset: d, sink: s}\n    expect: deny\n    why: x\n",
            5,
            "unknown key 'why'",
        ),
        ("cases:\n  - name: a\n    expect: deny\n", 2, "missing the required key 'route'"),
        (
            "cases:\n  - {name: a, route: {dataset: d, sink: s}, expect: deny}\n"
            "  - {name: a, route: {dataset: d, sink: s}, expect: deny}\n",
            3,
            "duplicate case name 'a'",
        ),
        ("tests: []\n", 1, "unknown key 'tests'"),
        (
            "cases:\n  - name: a\n    expect: deny\n    route: {dataset: d, sink: s, schema: {subject: x}}\n",
            4,
            "a route naming a 'schema' needs the case's 'schema_fields'",
        ),
        (
            "cases:\n  - name: a\n    expect: deny\n    route: {dataset: d, sink: s}\n"
            "    schema_fields: [{name: e, tags: PII}]\n",
            5,
            "schema_fields: route field 'fields[0].tags' must be a list",
        ),
    ],
)
def test_malformed_case_file_is_refused_naming_its_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_cases(text, "cases.yaml")
    assert info.value.line == line
    assert problem in info.value.problem
    assert str(info.value).startswith(f"cases.yaml:{line}: ")
