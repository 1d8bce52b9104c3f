"""GovernedConsumer against the real registry, gate and broker: residency, redaction, DLQ, re-checks."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from confluent_kafka import Producer as ConfluentProducer
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from residency_gate.client import GateClient
from spine.errors import UnavailableError
from spine.governed import AccessDenied, GovernedConsumer, GovernedProducer, GovernedRecord, RetryPolicy
from spine.headers import DlqHeaders
from spine.kafka import Producer, read_topic
from spine.topics import dlq_topic
from tests.integration.spine.governed.conftest import (
    EU_RULES,
    JSON_ORDER,
    PROTO_ORDER,
    GovernedSpine,
    avro_order,
)

pytestmark = pytest.mark.integration

ORDERS: list[dict[str, Any]] = [
    {"order_id": f"o{i}", "customer_email": f"c{i}@example.com", "amount": 100 + i} for i in range(5)
]


def produce(spine: GovernedSpine, records: list[dict[str, Any]]) -> None:
    with GovernedProducer(
        spine.subject, kafka=spine.kafka, registry=spine.registry_client(), gate=spine.gate_client()
    ) as producer:
        for record in records:
            producer.send(record)


def consumer(
    spine: GovernedSpine,
    group: str,
    *,
    region: str = "eu-west",
    sink: str = "analytics-eu",
    gate: GateClient | None = None,
    **kwargs: Any,
) -> GovernedConsumer:
    return GovernedConsumer(
        spine.dataset,
        group,
        region=region,
        sink=sink,
        kafka=spine.kafka,
        registry=spine.registry_client("consumer"),
        gate=gate or spine.gate_client(),
        **kwargs,
    )


def collect(governed: GovernedConsumer, count: int) -> list[GovernedRecord]:
    got: list[GovernedRecord] = []
    governed.run(got.append, max_records=count, idle_timeout_s=20)
    return got


@pytest.mark.parametrize(
    ("schema_type", "schema"),
    [("AVRO", avro_order()), ("JSON", JSON_ORDER), ("PROTOBUF", PROTO_ORDER)],
    ids=["avro", "json-schema", "protobuf"],
)
def test_round_trip_through_the_broker(
    spine: GovernedSpine, group_factory: Any, schema_type: str, schema: str
) -> None:
    published = spine.publish(schema, schema_type)
    produce(spine, ORDERS)
    with consumer(spine, group_factory(), home=spine.home) as governed:
        got = collect(governed, len(ORDERS))
    assert [r.value for r in got] == ORDERS
    assert {r.schema_id for r in got} == {published["id"]}
    assert all(r.headers.producer == "spine-producer" for r in got)


def test_reads_what_a_plain_confluent_serializing_producer_wrote(
    spine: GovernedSpine, group_factory: Any
) -> None:
    topic = spine.publish(avro_order())["topic"]
    sr = spine.registry_client().confluent
    serialize = AvroSerializer(
        sr,
        avro_order(),
        conf={"auto.register.schemas": False, "subject.name.strategy": lambda _c, _n: spine.subject},
    )
    plain = ConfluentProducer({"bootstrap.servers": spine.kafka.bootstrap})
    for order in ORDERS:
        plain.produce(topic, serialize(order, SerializationContext(topic, MessageField.VALUE)))
    assert plain.flush(30) == 0
    with consumer(spine, group_factory()) as governed:
        assert [r.value for r in collect(governed, len(ORDERS))] == ORDERS


def test_an_undecodable_record_goes_to_the_dlq_and_later_records_still_arrive(
    spine: GovernedSpine, group_factory: Any
) -> None:
    topic = spine.publish(avro_order())["topic"]
    produce(spine, ORDERS[:2])
    with Producer(spine.kafka) as raw:
        raw.send(topic, b"not avro at all", b"junk").result(30)
    produce(spine, ORDERS[2:])
    with consumer(spine, group_factory()) as governed:
        got = collect(governed, len(ORDERS))
    assert [r.value for r in got] == ORDERS
    [dead] = read_topic(spine.kafka, dlq_topic(topic))
    assert dead.value() == b"not avro at all"
    dlq = DlqHeaders.from_kafka(dead.headers())
    assert dlq is not None
    assert dlq.stage == "decode"
    assert "wire format" in dlq.reason
    assert dlq.origin_offset == 2


def test_a_consumer_in_a_denied_region_reads_nothing_and_its_decision_is_audited(
    spine: GovernedSpine, group_factory: Any
) -> None:
    spine.publish(avro_order())
    produce(spine, ORDERS)
    governed = consumer(spine, group_factory(), region="ap-south", sink="reporting-ap")
    delivered: list[GovernedRecord] = []
    with pytest.raises(AccessDenied) as denied:
        governed.run(delivered.append, idle_timeout_s=1)
    governed.close()
    assert delivered == []
    assert any("nothing-to-ap" in reason for reason in denied.value.reasons)
    record = spine.audit(denied.value.decision_id)
    assert record["outcome"] == "deny"
    assert record["route"]["sink"] == "reporting-ap"


def test_a_pii_email_field_never_reaches_the_handler_under_a_redacting_rule(
    spine: GovernedSpine, group_factory: Any
) -> None:
    spine.publish(avro_order())
    produce(spine, ORDERS)
    with consumer(spine, group_factory(), region="us-east", sink="analytics-us") as governed:
        got = collect(governed, len(ORDERS))
        assert governed.decision is not None
        assert governed.decision.outcome.value == "allow_with_redaction"
    assert len(got) == len(ORDERS)
    emails = {o["customer_email"] for o in ORDERS}
    for record in got:
        assert "customer_email" not in record.value
        assert not emails & {str(v) for v in record.value.values()}


def test_a_policy_revoking_the_route_stops_a_running_consumer_within_the_interval(
    spine: GovernedSpine, group_factory: Any
) -> None:
    spine.publish(avro_order())
    produce(spine, ORDERS[:1])
    governed = consumer(spine, group_factory(), recheck_s=1.0)
    got: list[GovernedRecord] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            governed.run(got.append)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 20
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
    assert got, "the consumer read nothing before the revocation"
    spine.push_policy(EU_RULES.replace("from: eu-west, to: eu-west", "from: eu-west, to: us-east"))
    revoked_at = time.monotonic()
    thread.join(10)
    stopped_after = time.monotonic() - revoked_at
    governed.close()
    assert not thread.is_alive()
    assert isinstance(failure[0], AccessDenied)
    assert stopped_after < 1.0 + 1.5  # the interval plus one gate round trip and one fetch


def test_with_the_gate_stopped_a_consumer_refuses_to_start(spine: GovernedSpine, group_factory: Any) -> None:
    spine.publish(avro_order())
    url = spine.gate.url
    spine.gate.stop()
    governed = consumer(spine, group_factory(), gate=spine.gate_client(url))
    with pytest.raises(UnavailableError, match="residency gate unreachable"):
        governed.start()
    governed.close()


def test_a_failing_handler_is_retried_then_its_record_goes_to_the_dlq(
    spine: GovernedSpine, group_factory: Any
) -> None:
    topic = spine.publish(avro_order())["topic"]
    produce(spine, ORDERS[:3])
    calls: dict[str, int] = {}
    got: list[GovernedRecord] = []

    def handler(record: GovernedRecord) -> None:
        calls[record.value["order_id"]] = calls.get(record.value["order_id"], 0) + 1
        if record.value["order_id"] == "o1":
            raise RuntimeError("sink said no")
        got.append(record)

    retry = RetryPolicy(retries=2, backoff_s=0.01)
    with consumer(spine, group_factory(), retry=retry) as governed:
        governed.run(handler, max_records=2, idle_timeout_s=20)
    assert [r.value["order_id"] for r in got] == ["o0", "o2"]
    assert calls["o1"] == 3
    [dead] = read_topic(spine.kafka, dlq_topic(topic))
    dlq = DlqHeaders.from_kafka(dead.headers())
    assert dlq is not None
    assert (dlq.stage, dlq.attempts, dlq.error_code) == ("handle", 3, "HANDLER_FAILED")
    assert "sink said no" in dlq.reason


def test_a_major_publish_moves_the_producer_and_a_pinned_consumer_keeps_its_major(
    spine: GovernedSpine, group_factory: Any
) -> None:
    first = spine.publish(avro_order(), version="1.0.0")
    produce(spine, ORDERS[:2])
    renamed = avro_order(extra=[{"name": "currency", "type": "string"}])
    second = spine.publish(renamed.replace('"amount"', '"total"'), version="2.0.0")
    assert (first["topic"], second["topic"]) == (f"{spine.dataset}.v1", f"{spine.dataset}.v2")
    with GovernedProducer(
        spine.subject, kafka=spine.kafka, registry=spine.registry_client(), gate=spine.gate_client()
    ) as producer:
        assert producer.topic == second["topic"]
        producer.send({"order_id": "n1", "customer_email": "n@x", "total": 5, "currency": "EUR"})
    produce(spine, [])
    with consumer(spine, group_factory(), major=1) as pinned:
        assert [r.value for r in collect(pinned, 2)] == ORDERS[:2]
        assert pinned.topic == first["topic"]
    with consumer(spine, group_factory()) as latest:
        assert [r.value["order_id"] for r in collect(latest, 1)] == ["n1"]
