"""GovernedProducer against the real registry, gate and broker, read back with Confluent's deserializers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from spine.governed import GovernedProducer, NotGovernedError, RecordInvalidError
from spine.headers import PRODUCER, SCHEMA_ID, TRACE_ID, DlqHeaders, header_value
from spine.kafka import read_topic
from spine.topics import dlq_topic
from tests.integration.spine.governed.conftest import JSON_ORDER, GovernedSpine, avro_order

pytestmark = pytest.mark.integration

ORDERS: list[dict[str, Any]] = [
    {"order_id": f"o{i}", "customer_email": f"c{i}@example.com", "amount": 100 + i} for i in range(5)
]


def producer(spine: GovernedSpine, **kwargs: Any) -> GovernedProducer:
    return GovernedProducer(
        spine.subject,
        kafka=spine.kafka,
        registry=spine.registry_client(),
        gate=spine.gate_client(),
        name="orders-service",
        **kwargs,
    )


@pytest.mark.parametrize(
    ("schema_type", "schema", "deserializer"),
    [
        ("AVRO", avro_order(), lambda sr: AvroDeserializer(sr)),
        ("JSON", JSON_ORDER, lambda sr: JSONDeserializer(None, schema_registry_client=sr)),
    ],
    ids=["avro", "json-schema"],
)
def test_a_plain_confluent_deserializer_reads_what_the_governed_producer_wrote(
    spine: GovernedSpine, schema_type: str, schema: str, deserializer: Callable[[Any], Any]
) -> None:
    published = spine.publish(schema, schema_type)
    with producer(spine, home=spine.home) as governed:
        for order in ORDERS:
            governed.send(order, key=order["order_id"])
    topic = published["topic"]
    messages = read_topic(spine.kafka, topic)
    decode = deserializer(spine.registry_client("consumer").confluent)
    values = [decode(m.value(), SerializationContext(topic, MessageField.VALUE)) for m in messages]
    assert values == ORDERS
    for message in messages:
        headers = message.headers()
        assert header_value(headers, SCHEMA_ID) == str(published["id"])
        assert header_value(headers, PRODUCER) == "orders-service"
        assert len(header_value(headers, TRACE_ID) or "") == 32


def test_an_invalid_record_raises_naming_the_field_path(spine: GovernedSpine) -> None:
    spine.publish(avro_order())
    with producer(spine) as governed, pytest.raises(RecordInvalidError) as raised:
        governed.send({"order_id": "o1", "customer_email": "c@x", "amount": "lots"})
    assert raised.value.path == "amount"
    assert "amount" in str(raised.value)


def test_an_invalid_json_record_names_its_field(spine: GovernedSpine) -> None:
    spine.publish(JSON_ORDER, "JSON")
    with producer(spine) as governed, pytest.raises(RecordInvalidError) as raised:
        governed.send({"order_id": "o1", "amount": 3})
    assert raised.value.path == "customer_email"


def test_with_a_dlq_an_invalid_record_lands_there_with_its_reason_and_never_in_the_topic(
    spine: GovernedSpine,
) -> None:
    topic = spine.publish(avro_order())["topic"]
    with producer(spine, dlq=True) as governed:
        assert governed.send(ORDERS[0]) is not None
        assert governed.send({"order_id": "bad", "customer_email": 7, "amount": 1}, key="bad") is None
        assert governed.send(ORDERS[1]) is not None
    assert len(read_topic(spine.kafka, topic)) == 2
    [dead] = read_topic(spine.kafka, dlq_topic(topic))
    dlq = DlqHeaders.from_kafka(dead.headers())
    assert dlq is not None
    assert dlq.stage == "validate"
    assert dlq.error_code == "INVALID_RECORD"
    assert dlq.origin == "orders-service"
    assert "customer_email" in dlq.reason
    assert dlq.attempts == 1
    assert dlq.first_failure_ms <= dlq.last_failure_ms
    assert dead.key() == b"bad"


def test_an_unregistered_subject_is_refused(spine: GovernedSpine) -> None:
    with pytest.raises(NotGovernedError, match="not registered"):
        producer(spine)


def test_a_subject_whose_dataset_the_matrix_does_not_know_is_refused(spine: GovernedSpine) -> None:
    spine.publish(avro_order())
    with pytest.raises(NotGovernedError, match="no dataset of the residency matrix"):
        GovernedProducer(
            "other.things-value",
            kafka=spine.kafka,
            registry=spine.registry_client(),
            gate=spine.gate_client(),
        )


def test_a_field_the_schema_does_not_have_is_refused_by_name(spine: GovernedSpine) -> None:
    spine.publish(avro_order())
    with producer(spine) as governed, pytest.raises(RecordInvalidError) as raised:
        governed.send({**ORDERS[0], "coupon": "X"})
    assert raised.value.path == "coupon"


def test_a_missing_avro_field_is_named(spine: GovernedSpine) -> None:
    spine.publish(avro_order())
    with producer(spine) as governed, pytest.raises(RecordInvalidError) as raised:
        governed.send({"order_id": "o1", "amount": 1})
    assert raised.value.path == "customer_email"
