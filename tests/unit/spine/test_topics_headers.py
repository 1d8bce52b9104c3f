from __future__ import annotations

import pytest

from spine.errors import ConfigError
from spine.headers import SCHEMA_ID, SpineHeaders, header_value
from spine.topics import (
    dlq_topic,
    governed_topic,
    is_internal,
    parse_governed_topic,
    topic_name_problem,
    validate_topic_name,
)


def test_governed_topic_names_carry_the_major_version() -> None:
    assert governed_topic("orders", "payments", 2) == "orders.payments.v2"
    assert parse_governed_topic("orders.payments.v2") == ("orders", "payments", 2)
    assert parse_governed_topic("orders.payments") is None


@pytest.mark.parametrize(("domain", "dataset", "major"), [("Orders", "x", 1), ("a", "b.c", 1), ("a", "b", 0)])
def test_illegal_governed_topic_parts_are_refused(domain: str, dataset: str, major: int) -> None:
    with pytest.raises(ConfigError):
        governed_topic(domain, dataset, major)


def test_dlq_and_internal_topics() -> None:
    assert dlq_topic("cdc.customers") == "cdc.customers.dlq"
    assert is_internal("_spine.audit")
    assert not is_internal("orders.payments.v1")
    with pytest.raises(ConfigError):
        validate_topic_name("bad topic")


def test_spine_headers_round_trip_and_always_carry_a_trace_id() -> None:
    headers = SpineHeaders(schema_id=12, producer="svc", residency="eu")
    encoded = headers.to_kafka()
    decoded = SpineHeaders.from_kafka(encoded)
    assert (decoded.schema_id, decoded.producer, decoded.residency) == (12, "svc", "eu")
    assert decoded.trace_id
    assert len(decoded.trace_id) == 32
    assert header_value(encoded, SCHEMA_ID) == "12"


@pytest.mark.parametrize(
    ("topic", "problem"),
    [
        ("orders.placed.v1", None),
        ("a\u202eb.v1", "character U+202E at position 1 cannot appear in a Kafka topic name"),
        (" .v1", "character U+0020 at position 0 cannot appear in a Kafka topic name"),
        ("", "a Kafka topic name cannot be empty"),
        ("..", "'..' cannot be a Kafka topic name"),
        ("x" * 250, "a Kafka topic name has at most 249 characters, this one has 250"),
    ],
)
def test_topic_name_problem_names_the_first_illegal_character(topic: str, problem: str | None) -> None:
    assert topic_name_problem(topic) == problem


def test_dlq_headers_round_trip_through_kafka_header_tuples() -> None:
    from spine.headers import DLQ_REASON, DlqHeaders, without_dlq_headers

    dlq = DlqHeaders(
        reason="amount: expected long",
        error_code="INVALID_RECORD",
        origin="governed-producer",
        stage="validate",
        first_failure_ms=1,
        last_failure_ms=2,
        attempts=3,
        origin_topic="sales.orders.v1",
        origin_partition=0,
        origin_offset=7,
    )
    headers = [("spine.trace_id", b"t"), *dlq.to_kafka()]
    assert DlqHeaders.from_kafka(headers) == dlq
    assert header_value(headers, DLQ_REASON) == "amount: expected long"
    assert without_dlq_headers(headers) == [("spine.trace_id", b"t")]
    assert DlqHeaders.from_kafka([("spine.trace_id", b"t")]) is None
    again = dlq.attach([*headers, ("spine.other", b"o")])
    assert [k for k, _ in again].count(DLQ_REASON) == 1
    assert header_value(again, "spine.other") == "o"
