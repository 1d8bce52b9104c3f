"""The real confluent-kafka SchemaRegistryClient and serializers against the registry and a real broker."""

from __future__ import annotations

import importlib
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from grpc_tools import protoc

from spine.kafka import Consumer, Producer
from spine.settings import KafkaSettings
from tests.integration.registry.conftest import RunningRegistry

pytestmark = pytest.mark.integration

AVRO = json.dumps(
    {
        "type": "record",
        "name": "Payment",
        "namespace": "com.example",
        "doc": "A payment.",
        "fields": [
            {"name": "id", "type": "string", "doc": "Id."},
            {"name": "amount", "type": "long", "doc": "Amount in cents."},
        ],
    }
)
JSON_SCHEMA = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Payment",
        "type": "object",
        "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}},
        "required": ["id", "amount"],
    }
)
PROTO = """syntax = "proto3";
package example.payments;

message Payment {
  string id = 1;
  int64 amount = 2;
}
"""


@pytest.fixture
def sr_client(registry_server: RunningRegistry) -> Iterator[Callable[..., SchemaRegistryClient]]:
    """Real SchemaRegistryClients with a static bearer token for a role; closed after the test."""
    made: list[SchemaRegistryClient] = []

    def make(role: str = "producer") -> SchemaRegistryClient:
        client = SchemaRegistryClient(
            {
                "url": registry_server.url,
                "bearer.auth.credentials.source": "STATIC_TOKEN",
                "bearer.auth.token": getattr(registry_server.tokens, role),
                "bearer.auth.logical.cluster": "spine",
            }
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def round_trip(
    kafka: KafkaSettings,
    topic: str,
    serialize: Callable[[Any, SerializationContext], bytes | None],
    deserialize: Callable[[bytes, SerializationContext], Any],
    value: Any,
) -> Any:
    ctx = SerializationContext(topic, MessageField.VALUE)
    with Producer(kafka) as producer:
        producer.send(topic, serialize(value, ctx), key="k").result(30)
    consumer = Consumer(kafka, f"g-{uuid.uuid4().hex[:8]}")
    try:
        consumer.subscribe([topic])
        for _ in range(60):
            msg = consumer.poll(1.0)
            if msg is not None:
                data = msg.value()
                assert isinstance(data, bytes)
                return deserialize(data, ctx)
    finally:
        consumer.close()
    raise AssertionError("record not consumed")


def test_avro_serializer_round_trip_through_the_broker(
    sr_client: Callable[..., SchemaRegistryClient],
    kafka_settings: KafkaSettings,
    topic_factory: Callable[..., str],
) -> None:
    client = sr_client()
    topic = topic_factory()
    value = {"id": "p-1", "amount": 1250}
    got = round_trip(
        kafka_settings,
        topic,
        AvroSerializer(client, AVRO),
        AvroDeserializer(sr_client("consumer")),
        value,
    )
    assert got == value
    latest = client.get_latest_version(f"{topic}-value")
    assert latest.version == 1
    assert latest.schema.schema_type == "AVRO"


def test_json_serializer_round_trip_through_the_broker(
    sr_client: Callable[..., SchemaRegistryClient],
    kafka_settings: KafkaSettings,
    topic_factory: Callable[..., str],
) -> None:
    client = sr_client()
    topic = topic_factory()
    value = {"id": "p-2", "amount": 7}
    got = round_trip(
        kafka_settings,
        topic,
        JSONSerializer(JSON_SCHEMA, client),
        JSONDeserializer(None, schema_registry_client=sr_client("consumer")),
        value,
    )
    assert got == value


def test_protobuf_serializer_round_trip_through_the_broker(
    sr_client: Callable[..., SchemaRegistryClient],
    kafka_settings: KafkaSettings,
    topic_factory: Callable[..., str],
    tmp_path: Path,
) -> None:
    module_name = f"payment_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module_name}.proto").write_text(PROTO)
    assert protoc.main(["protoc", f"-I{tmp_path}", f"--python_out={tmp_path}", f"{module_name}.proto"]) == 0
    sys.path.insert(0, str(tmp_path))
    try:
        payment_cls = importlib.import_module(f"{module_name}_pb2").Payment
    finally:
        sys.path.remove(str(tmp_path))
    client = sr_client()
    topic = topic_factory()
    serializer = ProtobufSerializer(payment_cls, client, {"use.deprecated.format": False})
    deserializer = ProtobufDeserializer(payment_cls, {"use.deprecated.format": False})
    got = round_trip(kafka_settings, topic, serializer, deserializer, payment_cls(id="p-3", amount=99))
    assert (got.id, got.amount) == ("p-3", 99)
    registered = client.get_latest_version(f"{topic}-value")
    assert registered.schema.schema_type == "PROTOBUF"
    assert registered.schema_id is not None
    serialized = client.get_schema(registered.schema_id, fmt="serialized")
    assert serialized.schema_str
    assert "message Payment" in (registered.schema.schema_str or "")


def test_client_admin_calls_and_errors(sr_client: Callable[..., SchemaRegistryClient]) -> None:
    client = sr_client()
    schema_id = client.register_schema("admin-value", Schema(AVRO, "AVRO"))
    assert client.get_schema(schema_id).schema_str
    assert client.get_subjects() == ["admin-value"]
    assert client.get_versions("admin-value") == [1]
    assert client.lookup_schema("admin-value", Schema(AVRO, "AVRO")).version == 1
    assert client.test_compatibility("admin-value", Schema(AVRO, "AVRO")) is True
    assert client.get_compatibility() == "BACKWARD"
    with pytest.raises(SchemaRegistryError) as missing:
        client.get_version("admin-value", 5)
    assert missing.value.error_code == 40402
    with pytest.raises(SchemaRegistryError) as forbidden:
        client.set_compatibility(level="FULL")
    assert forbidden.value.error_code == 40301
    admin = sr_client("admin")
    admin.set_compatibility("admin-value", "FULL")
    assert client.get_compatibility("admin-value") == "FULL"
    assert client.delete_subject("admin-value") == [1]
    assert client.delete_subject("admin-value", permanent=True) == [1]


def test_removed_protobuf_field_is_accepted_under_backward(
    sr_client: Callable[..., SchemaRegistryClient],
) -> None:
    """Confluent's protobuf.diff: FIELD_REMOVED is compatible, with or without ``reserved``."""
    client = sr_client()
    admin = sr_client("admin")
    admin.set_compatibility("pb-compat-value", "BACKWARD")
    client.register_schema("pb-compat-value", Schema(PROTO, "PROTOBUF"))
    without_amount = PROTO.replace("  int64 amount = 2;\n", "")
    assert "amount" not in without_amount
    assert client.test_compatibility("pb-compat-value", Schema(without_amount, "PROTOBUF")) is True
    client.register_schema("pb-compat-value", Schema(without_amount, "PROTOBUF"))
    assert client.get_versions("pb-compat-value") == [1, 2]
    changed_kind = without_amount.replace("string id = 1;", "int64 id = 1;")
    assert client.test_compatibility("pb-compat-value", Schema(changed_kind, "PROTOBUF")) is False
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("pb-compat-value", Schema(changed_kind, "PROTOBUF"))
    assert refused.value.error_code == 409
    assert "FIELD_SCALAR_KIND_CHANGED" in refused.value.error_message


def test_property_added_to_an_open_json_model_is_refused_under_backward(
    sr_client: Callable[..., SchemaRegistryClient],
) -> None:
    """Confluent's json.diff: OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL is refused, the same property
    added to a closed model (OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL) is accepted."""
    client = sr_client()
    sr_client("admin").set_compatibility("js-compat-value", "BACKWARD")
    client.register_schema("js-compat-value", Schema(JSON_SCHEMA, "JSON"))
    document = json.loads(JSON_SCHEMA)
    document["properties"]["note"] = {"type": "string"}
    added = Schema(json.dumps(document), "JSON")
    assert client.test_compatibility("js-compat-value", added) is False
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("js-compat-value", added)
    assert refused.value.error_code == 409
    assert "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL at /properties/note" in refused.value.error_message
    closed = json.loads(JSON_SCHEMA) | {"additionalProperties": False}
    client.register_schema("js-closed-value", Schema(json.dumps(closed), "JSON"))
    closed["properties"]["note"] = {"type": "string"}
    assert client.test_compatibility("js-closed-value", Schema(json.dumps(closed), "JSON")) is True
