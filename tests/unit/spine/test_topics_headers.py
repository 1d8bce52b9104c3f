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


def test_dlq_headers_keep_the_records_own_and_say_why_and_where() -> None:
    from spine.headers import (
        DLQ_ERROR_CODE,
        DLQ_ORIGIN_OFFSET,
        DLQ_ORIGIN_PARTITION,
        DLQ_ORIGIN_TOPIC,
        DLQ_REASON,
        dlq_headers,
        header_value,
    )

    original = [("spine.trace_id", b"abc"), (DLQ_REASON, b"an older failure")]
    headers = dlq_headers(original, reason="$.run.runId: 'runId' is required", error_code=42203,
                          topic="_spine.lineage", partition=0, offset=7)  # fmt: skip
    assert header_value(headers, "spine.trace_id") == "abc"
    assert [v for k, v in headers if k == DLQ_REASON] == [b"$.run.runId: 'runId' is required"]
    assert header_value(headers, DLQ_ERROR_CODE) == "42203"
    assert header_value(headers, DLQ_ORIGIN_TOPIC) == "_spine.lineage"
    assert header_value(headers, DLQ_ORIGIN_PARTITION) == "0"
    assert header_value(headers, DLQ_ORIGIN_OFFSET) == "7"
