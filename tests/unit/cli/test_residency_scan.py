"""Which topics and sinks ``spine residency scan`` reports: governed names whose dataset the matrix lacks."""

from __future__ import annotations

import pytest

from residency_gate.scan import dataset_candidates, find_unlisted, matrix_names

DATASETS = {"sales.orders", "customers"}
SINKS = {"analytics-eu"}


@pytest.mark.parametrize(
    ("topic", "candidates"),
    [
        ("sales.orders.v2", ("sales.orders.v2", "sales.orders", "orders")),
        ("sales.orders.v2.dlq", ("sales.orders.v2", "sales.orders", "orders")),
        ("cdc.public.customers", ("cdc.public.customers", "public.customers", "customers")),
        ("scratch", None),
        ("sales.orders", None),
        ("cdc.", None),
    ],
)
def test_dataset_candidates_follow_the_topic_conventions(
    topic: str, candidates: tuple[str, ...] | None
) -> None:
    assert dataset_candidates(topic) == candidates


def test_listed_datasets_internal_and_ungoverned_topics_are_not_findings() -> None:
    topics = [
        "sales.orders.v1",
        "sales.orders.v1.dlq",
        "cdc.public.customers",
        "_spine.audit",
        "__consumer_offsets",
        "tmp",
    ]
    assert find_unlisted(topics, [], DATASETS, SINKS) == []


def test_unlisted_governed_topics_and_unknown_sinks_are_findings() -> None:
    findings = find_unlisted(
        ["hr.salaries.v1", "cdc.public.secrets", "sales.orders.v1"],
        ["analytics-eu", "rogue"],
        DATASETS,
        SINKS,
    )
    assert [(f.kind, f.subject) for f in findings] == [
        ("topic", "cdc.public.secrets"),
        ("topic", "hr.salaries.v1"),
        ("sink", "rogue"),
    ]
    assert "hr.salaries" in findings[1].detail


def test_a_topic_listed_as_a_sink_is_not_a_finding() -> None:
    assert find_unlisted(["hr.salaries.v1"], [], DATASETS, {"hr.salaries.v1"}) == []


def test_matrix_names_reads_a_policy_document() -> None:
    document = {"datasets": {"a.b": {}}, "sinks": {"s": {}}, "rules": []}
    assert matrix_names(document) == ({"a.b"}, {"s"})
    assert matrix_names({}) == (set(), set())
