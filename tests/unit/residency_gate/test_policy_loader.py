"""Loading the residency matrix: valid files compile; every kind of mistake is refused naming its line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import rfc8785

from residency_gate.errors import PolicyError
from residency_gate.policy import empty_policy, load_policy_document, load_policy_file, load_policy_text
from spine.errors import ExitCode

BASE = """\
version: "v1"
regions: [eu, us]
classifications: [PUBLIC, PII, PII.email]
datasets:
  crm.customers: {home: eu, classification: PII}
sinks:
  lake-us: {region: us, allowed_classifications: [PUBLIC]}
rules:
  - id: pii-home
    allow: {classification: PII, from: eu, to: eu}
"""

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "residency" / "matrix.yaml"


def _error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "matrix.yaml")
    return info.value


def test_valid_policy_compiles_its_indexes() -> None:
    policy = load_policy_text(BASE)
    assert policy.version == "v1"
    assert policy.regions == frozenset({"eu", "us"})
    assert policy.lineage("PII.email") == ("PII.email", "PII")
    assert policy.datasets["crm.customers"].home == "eu"
    assert policy.sinks["lake-us"].allowed_classifications == frozenset({"PUBLIC"})
    assert [rule.id for rule in policy.rules] == ["pii-home"]
    assert policy.rules[0].line == 9


def test_policy_hash_is_sha256_of_the_rfc8785_canonical_document() -> None:
    policy = load_policy_text(BASE)
    assert policy.hash == hashlib.sha256(rfc8785.dumps(policy.document)).hexdigest()
    assert policy.document["datasets"] == {"crm.customers": {"home": "eu", "classification": "PII"}}


def test_policy_hash_ignores_formatting_and_comments() -> None:
    reformatted = BASE.replace("regions: [eu, us]", "# where data lives\nregions:\n  - eu\n  - us")
    assert load_policy_text(reformatted).hash == load_policy_text(BASE).hash


def test_policy_from_a_parsed_document_matches_the_yaml() -> None:
    policy = load_policy_text(BASE)
    assert load_policy_document(policy.document).hash == policy.hash


def test_empty_policy_is_version_zero_with_nothing_defined() -> None:
    policy = empty_policy()
    assert policy.version == "0"
    assert not policy.regions
    assert not policy.datasets
    assert not policy.rules
    assert len(policy.hash) == 64


def test_example_matrix_loads() -> None:
    policy = load_policy_file(EXAMPLE)
    assert len(policy.regions) == 4
    assert "crm.customers" in policy.datasets


def test_error_message_is_source_line_problem_with_usage_exit_code() -> None:
    error = _error(BASE.replace("regions: [eu, us]", "regions: [eu, us]\nowner: security"))
    assert str(error) == (
        "matrix.yaml:3: unknown key 'owner' in the policy (expected one of: classifications, datasets, "
        "description, regions, rules, sinks, version)"
    )
    assert (error.source, error.line) == ("matrix.yaml", 3)
    assert error.exit_code is ExitCode.USAGE


@pytest.mark.parametrize(
    ("old", "new", "line", "problem"),
    [
        (
            "{home: eu, classification: PII}",
            "{home: eu, classification: PII, owner: crm}",
            5,
            "unknown key 'owner' in dataset 'crm.customers'",
        ),
        (
            "{home: eu, classification: PII}",
            "{home: mars, classification: PII}",
            5,
            "undefined region 'mars'",
        ),
        (
            "{home: eu, classification: PII}",
            "{home: eu, classification: SECRET}",
            5,
            "undefined classification",
        ),
        (
            "{region: us, allowed",
            "{region: ap, allowed",
            7,
            "sink 'lake-us' region names undefined region 'ap'",
        ),
        ("allowed_classifications: [PUBLIC]", "allowed_classifications: [HIDDEN]", 7, "'HIDDEN'"),
        ("from: eu, to: eu}", "from: eu, to: [eu, ap]}", 10, "'to' names undefined region 'ap'"),
        ("{classification: PII, from", "{dataset: crm.orders, from", 10, "undefined dataset 'crm.orders'"),
        ("{classification: PII, from", "{sink: lake-eu, from", 10, "undefined sink 'lake-eu'"),
        ("{classification: PII, from", "{classification: PHI, from", 10, "undefined classification 'PHI'"),
        ("to: eu}", "to: eu, when: always}", 10, "unknown key 'when' in rule 'pii-home' allow"),
        ("    allow:", "    permit:", 10, "unknown key 'permit' in rule #1"),
        ('version: "v1"', "version: 2026-12-01", 1, "version must be a string"),
        (
            "[PUBLIC, PII, PII.email]",
            "[PUBLIC, PII.email, PII]",
            3,
            "needs its parent 'PII' listed before it",
        ),
        ("regions: [eu, us]", "regions: [eu, us, eu]", 2, "'eu' is listed twice in regions"),
        (
            "classification: PII}",
            "classification: PII, replicas: [ap]}",
            5,
            "dataset 'crm.customers' replicas names undefined region 'ap'",
        ),
        (
            "classification: PII}",
            "classification: PII, replicas: [us, eu]}",
            5,
            "dataset 'crm.customers' replicas names its home region 'eu'",
        ),
        ("classification: PII}", "classification: PII, subject: ''}", 5, "subject must not be empty"),
        (
            "classification: PII}",
            'classification: PII, subject: "a\\nb"}',
            5,
            "subject must be 1 to 255 printable characters",
        ),
    ],
)
def test_invalid_policy_is_refused_naming_line_and_problem(
    old: str, new: str, line: int, problem: str
) -> None:
    assert old in BASE
    error = _error(BASE.replace(old, new))
    assert error.line == line
    assert problem in error.problem


def test_dataset_replicas_and_subject_are_compiled() -> None:
    linked = "classification: PII, replicas: us, subject: crm.customers-value}"
    policy = load_policy_text(BASE.replace("classification: PII}", linked))
    dataset = policy.datasets["crm.customers"]
    assert (dataset.replicas, dataset.subject) == (frozenset({"us"}), "crm.customers-value")
    assert dataset.holds_copy_in("us")
    assert dataset.holds_copy_in("eu")
    assert not dataset.holds_copy_in("ap")


def test_duplicate_rule_id_is_refused() -> None:
    text = BASE + "  - id: pii-home\n    allow: {classification: PII, from: eu, to: us}\n"
    error = _error(text)
    assert error.line == 11
    assert error.problem == "duplicate rule id 'pii-home' (first used on line 9)"


def test_allow_with_the_identical_scope_of_a_deny_is_refused_as_contradictory() -> None:
    text = BASE + "  - id: no-pii-home\n    deny: {classification: PII, from: eu, to: eu}\n"
    error = _error(text)
    assert error.line == 9
    assert "rule 'pii-home' contradicts deny rule 'no-pii-home' (line 11)" in error.problem


def test_allow_fully_inside_a_broader_deny_is_refused() -> None:
    text = BASE + "  - id: nothing-personal\n    deny: {classification: PII}\n"
    assert "contradicts deny rule 'nothing-personal'" in _error(text).problem


def test_allow_of_a_child_class_inside_a_deny_of_its_parent_is_refused() -> None:
    text = BASE + (
        "  - id: emails-to-us\n    allow: {classification: PII.email, to: us}\n"
        "  - id: no-pii-us\n    deny: {classification: PII, to: us}\n"
    )
    error = _error(text)
    assert error.line == 11
    assert "contradicts deny rule 'no-pii-us'" in error.problem


def test_deny_that_only_partly_overlaps_an_allow_is_accepted() -> None:
    text = (
        BASE.replace("to: eu}", "to: [eu, us]}")
        + "  - id: no-pii-us\n    deny: {classification: PII, to: us}\n"
    )
    assert [rule.id for rule in load_policy_text(text).rules] == ["pii-home", "no-pii-us"]


def test_rule_with_a_sink_outside_its_to_regions_is_refused() -> None:
    error = _error(BASE.replace("from: eu, to: eu}", "from: eu, to: eu, sink: lake-us}"))
    assert error.line == 9
    assert "can never apply to sink: lake-us is in us" in error.problem


def test_rule_needs_exactly_one_of_allow_and_deny() -> None:
    both = BASE.replace(
        "    allow: {classification: PII, from: eu, to: eu}", "    allow: {}\n    deny: {to: us}"
    )
    assert "exactly one of 'allow' or 'deny'" in _error(both).problem
    neither = BASE.replace("    allow: {classification: PII, from: eu, to: eu}", "    description: nothing")
    assert "exactly one of 'allow' or 'deny'" in _error(neither).problem


def test_redact_is_refused_on_a_deny_rule_and_with_an_unknown_action() -> None:
    deny = BASE.replace("allow: {classification: PII, from: eu, to: eu}", "deny: {to: us, redact: {}}")
    assert "unknown key 'redact' in rule 'pii-home' deny" in _error(deny).problem
    shred = BASE.replace("to: eu}", "to: us, redact: {fields_tagged: [PII], action: shred}}")
    error = _error(shred)
    assert error.line == 10
    assert "redact action must be 'drop' or 'mask', not 'shred'" in error.problem


def test_missing_required_key_is_named() -> None:
    error = _error(BASE.replace('version: "v1"\n', ""))
    assert error.problem == "the policy is missing the required key 'version'"


def test_duplicate_mapping_key_is_refused() -> None:
    error = _error(
        BASE.replace("  crm.customers:", "  crm.customers: {home: eu, classification: PII}\n  crm.customers:")
    )
    assert error.line == 6
    assert "duplicate key 'crm.customers' in datasets" in error.problem


def test_yaml_syntax_error_names_its_line() -> None:
    error = _error(BASE.replace("regions: [eu, us]", "regions: [eu, us"))
    assert error.line is not None
    assert error.line >= 2
    assert error.problem.startswith("not valid YAML")


def test_empty_file_is_refused() -> None:
    assert _error("").problem == "the file is empty"


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"missing\.yaml: cannot read"):
        load_policy_file(tmp_path / "missing.yaml")
