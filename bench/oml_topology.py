"""The example topology's records/s against a hand-written confluent-kafka loop (used by ``bench.oml``)."""

from __future__ import annotations

import re
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import confluent_kafka
import httpx
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bench.governed import serve
from oml.compile import compile_pipeline
from oml.connections import parse_connections
from oml.context import LiveContext
from oml.runtime.runner import PipelineRunner, Services
from oml.validate import validate
from registry.app import create_app as registry_app
from residency_gate.app import create_app as gate_app
from residency_gate.client import GateClient
from spine.auth import Role, TokenStore
from spine.broker import EmbeddedBroker, free_port
from spine.governed import GovernedProducer, governed_topic_specs
from spine.kafka import Admin
from spine.kafka.config import consumer_config, producer_config
from spine.registry_client import RegistryClient
from spine.settings import KafkaSettings, RegistrySettings, ResidencyGateSettings, SpineSettings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
ORDER_ID = re.compile(r"^o-[0-9]+$")


def orders(count: int) -> list[dict[str, Any]]:
    statuses = ["PLACED", "PAID", "SHIPPED"]
    return [
        {"order_id": f"o-{i}", "customer_email": f"c{i}@example.com", "amount_cents": 300 * (i % 40),
         "status": statuses[i % 3]}
        for i in range(count)
    ]  # fmt: skip


def hand_loop(kafka: KafkaSettings, sr: Any, source: str, out_topic: str, db_path: Path, count: int) -> float:
    """The example's work written by hand over confluent-kafka: what the pipeline is measured against."""
    deserializer = AvroDeserializer(sr)
    serializer = AvroSerializer(sr, (EXAMPLES / "schemas" / "paid-order.avsc").read_text())
    consumer = confluent_kafka.Consumer(consumer_config(kafka, "bench-hand", f"hand-{uuid.uuid4().hex}"))
    producer = confluent_kafka.Producer(producer_config(kafka, "bench-hand"))
    db = sqlite3.connect(db_path)
    db.execute(
        "CREATE TABLE IF NOT EXISTS hand (order_id TEXT PRIMARY KEY, status TEXT, amount_cents INTEGER, "
        "amount_eur REAL, large INTEGER)"
    )
    consumer.subscribe([source])
    in_ctx = SerializationContext(source, MessageField.VALUE)
    out_ctx = SerializationContext(out_topic, MessageField.VALUE)
    seen_ids: set[str] = set()
    seen = 0
    started = 0.0
    while seen < count:
        batch = consumer.consume(500, 0.1)
        if not batch:
            continue
        started = started or time.perf_counter()
        rows = []
        for msg in batch:
            if msg.error() is not None:
                continue
            seen += 1
            record = deserializer(msg.value(), in_ctx)
            record.pop("customer_email", None)
            if record["status"] not in ("PAID", "SHIPPED") or record["amount_cents"] < 1000:
                continue
            oid = record["order_id"]
            ok = oid is not None and ORDER_ID.fullmatch(oid) and 0 <= record["amount_cents"] <= 10_000_000
            if not ok or oid in seen_ids:
                producer.produce(f"{source}.dlq", msg.value(), msg.key())
                continue
            seen_ids.add(oid)
            cents = record["amount_cents"]
            row = {"order_id": oid, "status": record["status"], "amount_cents": cents,
                   "amount_eur": cents / 100.0, "large": int(cents >= 5000)}  # fmt: skip
            producer.produce(out_topic, serializer(row, out_ctx), oid.encode())
            rows.append(tuple(row.values()))
        producer.flush()
        with db:
            db.executemany(
                "INSERT INTO hand VALUES (?, ?, ?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET "
                "status=excluded.status, amount_cents=excluded.amount_cents, amount_eur=excluded.amount_eur, "
                "large=excluded.large",
                rows,
            )
        consumer.commit(asynchronous=False)
    elapsed = time.perf_counter() - started
    consumer.close()
    db.close()
    return count / elapsed


def measure(count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        broker = EmbeddedBroker(free_port(), log_file=home / "broker.log")
        broker.start()
        try:
            return _measure(home, KafkaSettings(bootstrap=broker.bootstrap), count)
        finally:
            broker.stop()


def _measure(home: Path, kafka: KafkaSettings, count: int) -> dict[str, Any]:
    spine = SpineSettings(home=home / "spine")
    token = TokenStore(spine.tokens_path).issue(Role.ADMIN, "bench")
    reg_url, reg_server, _ = serve(registry_app(RegistrySettings(), spine=spine, kafka=None))
    gate_url, gate_server, _ = serve(
        gate_app(
            ResidencyGateSettings(registry_url=reg_url), spine=spine, kafka=KafkaSettings(bootstrap=None)
        )
    )
    headers = {"Authorization": f"Bearer {token}"}
    try:
        matrix = (EXAMPLES / "residency" / "matrix.yaml").read_text()
        httpx.post(f"{gate_url}/v1/policy", content=matrix.encode(), timeout=30,
                   headers={**headers, "Content-Type": "application/yaml"}).raise_for_status()  # fmt: skip
        admin = Admin(kafka)
        topics = {}
        for subject, schema in (
            ("sales.orders-value", "order.avsc"),
            ("analytics.paid_orders-value", "paid-order.avsc"),
        ):
            body = {"schema": (EXAMPLES / "schemas" / schema).read_text()}
            answer = httpx.post(f"{reg_url}/schemas/{subject}", headers=headers, timeout=30, json=body).json()
            topics[subject] = str(answer["topic"])
            admin.create_topics(governed_topic_specs(topics[subject], 1))
        hand_out = "bench.hand.v1"
        admin.create_topics(governed_topic_specs(hand_out, 1))
        with RegistryClient(reg_url, token) as registry, GateClient(gate_url, token) as gate:
            with GovernedProducer(
                "sales.orders-value", kafka=kafka, registry=registry, gate=gate
            ) as producer:
                for record in orders(count):
                    producer.send(record, record["order_id"])
            hand = hand_loop(
                kafka, registry.confluent, topics["sales.orders-value"], hand_out, home / "hand.db", count
            )
            connections, _ = parse_connections(
                f"connections:\n  kafka:\n    local: {{default: true, bootstrap: '{kafka.bootstrap}'}}\n"
                f"  sql:\n    analytics: {{url: 'sqlite:///{home / 'oml.db'}'}}\n",
                "bench",
            )
            text = (EXAMPLES / "pipelines" / "orders-analytics.oml.yaml").read_text()
            pipeline = validate(text, connections=connections)
            compiled = compile_pipeline(pipeline, LiveContext(gate, registry))
            runner = PipelineRunner(pipeline, compiled, Services(kafka, registry, gate), home=home, env={},
                                    lineage=False)  # fmt: skip
            runner.run(max_records=count, idle_timeout_s=30)
            assert runner.first_record_at is not None
            elapsed = time.monotonic() - runner.first_record_at
            oml_rate = runner.read / elapsed
    finally:
        reg_server.should_exit = True
        gate_server.should_exit = True
    return {"records": count, "oml_records_per_s": round(oml_rate), "hand_records_per_s": round(hand),
            "ratio": round(oml_rate / hand, 2), "goal_ratio": 0.8}  # fmt: skip


__all__ = ["hand_loop", "measure"]
