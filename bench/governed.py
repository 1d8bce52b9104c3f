"""Governed clients: produce and consume records/s against raw confluent-kafka with Confluent's Avro serde.

One run starts the embedded broker, a registry and a residency gate (in this process, on SQLite), publishes
an Avro schema whose ``customer_email`` is tagged PII.email, and pushes a matrix whose route to the US sink
drops PII. Then, with the same records and the same client settings (``spine.kafka.config``):

- produce: ``GovernedProducer.send`` (validation, headers) vs ``confluent_kafka.Producer`` and
  ``AvroSerializer``;
- consume: ``GovernedConsumer`` on the US route (redaction on) vs ``confluent_kafka.Consumer`` +
  ``AvroDeserializer``, both reading the governed topic (the same records, headers included) from its
  start, each in its own group.

Prints the median records/s of each over ``--rounds`` (sides alternate who goes first) and the
governed/raw ratio (goal ≥ 0.9).

    python -m bench.governed [--records 50000] [--rounds 3] [--json]

Run it as a module: as a script, bench/registry.py would shadow the registry package.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import confluent_kafka
import httpx
import uvicorn
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from registry.app import create_app as registry_app
from residency_gate.app import create_app as gate_app
from residency_gate.client import GateClient
from spine.auth import Role, TokenStore
from spine.broker import EmbeddedBroker, free_port
from spine.governed import GovernedConsumer, GovernedProducer, GovernedRecord, governed_topic_specs
from spine.kafka import Admin
from spine.kafka.config import consumer_config, producer_config
from spine.registry_client import RegistryClient
from spine.runtime.health import wait_http_ready
from spine.settings import KafkaSettings, RegistrySettings, ResidencyGateSettings, SpineSettings

DATASET = "bench.orders"
SUBJECT = f"{DATASET}-value"
SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "namespace": "bench",
        "fields": [
            {"name": "order_id", "type": "string"},
            {"name": "customer_email", "type": "string", "confluent:tags": ["PII.email"]},
            {"name": "amount", "type": "long"},
            {"name": "note", "type": "string"},
        ],
    }
)
MATRIX = f"""
version: "bench-1"
regions: [eu-west, us-east]
classifications: [PUBLIC, INTERNAL, PII, PII.email]
datasets:
  {DATASET}: {{home: eu-west, classification: INTERNAL, subject: {SUBJECT}}}
sinks:
  analytics-us: {{region: us-east, allowed_classifications: [PUBLIC, INTERNAL]}}
rules:
  - id: eu-to-us-without-pii
    allow:
      classification: INTERNAL
      from: eu-west
      to: us-east
      redact: {{fields_tagged: [PII], action: drop}}
"""


def serve(app: Any) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    if not wait_http_ready(url, 30):
        raise RuntimeError(f"{url} did not become ready")
    return url, server, thread


def records(count: int) -> list[dict[str, Any]]:
    return [
        {"order_id": f"o{i}", "customer_email": f"c{i}@example.com", "amount": i, "note": "x" * 64}
        for i in range(count)
    ]


def bench_raw_produce(kafka: KafkaSettings, sr: Any, topic: str, batch: list[dict[str, Any]]) -> float:
    serializer = AvroSerializer(
        sr, SCHEMA, conf={"auto.register.schemas": False, "subject.name.strategy": lambda _c, _n: SUBJECT}
    )
    producer = confluent_kafka.Producer(producer_config(kafka, "bench-raw"))
    ctx = SerializationContext(topic, MessageField.VALUE)
    started = time.perf_counter()
    for record in batch:
        while True:
            try:
                producer.produce(topic, serializer(record, ctx))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    return len(batch) / (time.perf_counter() - started)


def bench_governed_produce(
    kafka: KafkaSettings, registry: RegistryClient, gate: GateClient, batch: list[dict[str, Any]]
) -> float:
    producer = GovernedProducer(SUBJECT, kafka=kafka, registry=registry, gate=gate, name="bench")
    started = time.perf_counter()
    for record in batch:
        producer.send(record)
    producer.close(60)
    return len(batch) / (time.perf_counter() - started)


def bench_raw_consume(kafka: KafkaSettings, sr: Any, topic: str, count: int) -> float:
    deserializer = AvroDeserializer(sr)
    consumer = confluent_kafka.Consumer(consumer_config(kafka, "bench-raw", f"raw-{uuid.uuid4().hex}"))
    consumer.subscribe([topic])
    ctx = SerializationContext(topic, MessageField.VALUE)
    seen = 0
    started = 0.0
    while seen < count:
        batch = consumer.consume(500, 0.1)
        if batch and not started:
            started = time.perf_counter()
        for msg in batch:
            if msg.error() is None:
                deserializer(msg.value(), ctx)
                seen += 1
        if batch:
            consumer.commit(asynchronous=False)
    elapsed = time.perf_counter() - started
    consumer.close()
    return count / elapsed


def bench_governed_consume(
    kafka: KafkaSettings, registry: RegistryClient, gate: GateClient, count: int
) -> float:
    consumer = GovernedConsumer(
        DATASET,
        f"gov-{uuid.uuid4().hex}",
        region="us-east",
        sink="analytics-us",
        kafka=kafka,
        registry=registry,
        gate=gate,
    )
    first: list[float] = []
    leaked: list[GovernedRecord] = []

    def handle(record: GovernedRecord) -> None:
        if not first:
            first.append(time.perf_counter())
        if "customer_email" in record.value:
            leaked.append(record)

    consumer.start()
    consumer.run(handle, max_records=count, idle_timeout_s=30)
    elapsed = time.perf_counter() - first[0]
    consumer.close()
    if leaked:
        raise RuntimeError(f"{len(leaked)} records reached the handler unredacted")
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3, help="medians over this many alternating rounds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        broker = EmbeddedBroker(free_port(), log_file=home / "broker.log")
        broker.start()
        try:
            kafka = KafkaSettings(bootstrap=broker.bootstrap)
            result = run(home, kafka, args.records, args.rounds)
        finally:
            broker.stop()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for phase in ("produce", "consume"):
        row = result[phase]
        print(
            f"{phase:8s} governed {row['governed']:>10,.0f} rec/s   raw {row['raw']:>10,.0f} rec/s   "
            f"ratio {row['ratio']:.2f}x (goal >= 0.9x)"
        )


def run(home: Path, kafka: KafkaSettings, count: int, rounds: int = 3) -> dict[str, Any]:
    spine = SpineSettings(home=home / "spine")
    store = TokenStore(spine.tokens_path)
    token = store.issue(Role.ADMIN, "bench")
    reg_url, reg_server, _ = serve(registry_app(RegistrySettings(), spine=spine, kafka=None))
    gate_settings = ResidencyGateSettings(registry_url=reg_url)
    gate_url, gate_server, _ = serve(
        gate_app(gate_settings, spine=spine, kafka=KafkaSettings(bootstrap=None))
    )
    try:
        headers = {"Authorization": f"Bearer {token}"}
        published = httpx.post(
            f"{reg_url}/schemas/{SUBJECT}", json={"schema": SCHEMA}, headers=headers, timeout=30
        ).json()
        pushed = httpx.post(
            f"{gate_url}/v1/policy",
            content=MATRIX.encode(),
            headers={**headers, "Content-Type": "application/yaml"},
            timeout=30,
        )
        pushed.raise_for_status()
        topic = str(published["topic"])
        raw_topic = f"{topic}-raw"
        admin = Admin(kafka)
        admin.create_topics([*governed_topic_specs(topic, 1), *governed_topic_specs(raw_topic, 1)])
        batch = records(count)
        figures: dict[str, list[float]] = {"gov_p": [], "raw_p": [], "gov_c": [], "raw_c": []}
        with RegistryClient(reg_url, token) as registry, GateClient(gate_url, token) as gate:
            for round_ in range(rounds):
                # Alternate which side goes first, so neither always meets a warm broker or a busy core.
                sides: list[tuple[str, Callable[[], float]]] = [
                    ("raw_p", lambda: bench_raw_produce(kafka, registry.confluent, raw_topic, batch)),
                    ("gov_p", lambda: bench_governed_produce(kafka, registry, gate, batch)),
                ]
                readers: list[tuple[str, Callable[[], float]]] = [
                    ("gov_c", lambda: bench_governed_consume(kafka, registry, gate, count)),
                    ("raw_c", lambda: bench_raw_consume(kafka, registry.confluent, topic, count)),
                ]
                for name, measure in [*sides[:: 1 - 2 * (round_ % 2)], *readers[:: 1 - 2 * (round_ % 2)]]:
                    figures[name].append(measure())
    finally:
        reg_server.should_exit = True
        gate_server.should_exit = True
    med = {name: statistics.median(values) for name, values in figures.items()}
    return {
        "records": count,
        "rounds": rounds,
        "produce": {"governed": med["gov_p"], "raw": med["raw_p"], "ratio": med["gov_p"] / med["raw_p"]},
        "consume": {"governed": med["gov_c"], "raw": med["raw_c"], "ratio": med["gov_c"] / med["raw_c"]},
    }


if __name__ == "__main__":
    main()
