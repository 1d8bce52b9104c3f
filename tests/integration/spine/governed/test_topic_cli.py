"""``spine topic`` against a real registry, gate and broker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from spine.auth import Role
from spine.governed.codec import Encoder
from spine.governed.dlq import DlqWriter
from spine.kafka import Producer, read_topic
from tests.integration.spine.governed.conftest import GovernedSpine, avro_order

pytestmark = pytest.mark.integration

ORDERS: list[dict[str, Any]] = [
    {"order_id": f"o{i}", "customer_email": f"c{i}@example.com", "amount": i} for i in range(3)
]


def spine_cli(spine: GovernedSpine, *args: str) -> Result:
    env = {
        "SPINE_REGISTRY_URL": spine.registry_url,
        "SPINE_RESIDENCY_URL": spine.gate.url,
        "SPINE_KAFKA_BOOTSTRAP": spine.kafka.bootstrap or "",
        "SPINE_TOKEN": spine.gate.tokens[Role.ADMIN],
        "SPINE_HOME": str(spine.home),
        "COLUMNS": "250",
    }
    return CliRunner().invoke(app, list(args), env=env)


def jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_create_produce_and_consume_redacted_through_the_cli(spine: GovernedSpine, tmp_path: Path) -> None:
    topic = spine.publish(avro_order())["topic"]
    created = spine_cli(spine, "topic", "create", spine.subject, "--partitions", "2", "--json")
    assert created.exit_code == 0, created.output
    assert [t["topic"] for t in json.loads(created.output)["topics"]] == [topic, f"{topic}.dlq"]
    sent = spine_cli(spine, "topic", "produce", topic, str(jsonl(tmp_path / "orders.jsonl", ORDERS)))
    assert sent.exit_code == 0, sent.output
    read = spine_cli(
        spine, "topic", "consume", topic, "--region", "us-east", "--sink", "analytics-us", "-n", "3"
    )
    assert read.exit_code == 0, read.output
    values = sorted((json.loads(line) for line in read.stdout.splitlines()), key=lambda r: r["order_id"])
    assert values == [{"order_id": o["order_id"], "amount": o["amount"]} for o in ORDERS]


def test_produce_stops_at_the_first_bad_line_naming_it_and_sends_nothing(
    spine: GovernedSpine, tmp_path: Path
) -> None:
    topic = spine.publish(avro_order())["topic"]
    bad = [ORDERS[0], {"order_id": "x", "customer_email": "e", "amount": "many"}, ORDERS[1]]
    result = spine_cli(spine, "topic", "produce", topic, str(jsonl(tmp_path / "bad.jsonl", bad)))
    assert result.exit_code == 1
    assert "bad.jsonl:2:" in result.output
    assert "field amount" in result.output
    assert read_topic(spine.kafka, topic) == []


def test_a_denied_consumer_exits_1(spine: GovernedSpine) -> None:
    topic = spine.publish(avro_order())["topic"]
    result = spine_cli(spine, "topic", "consume", topic, "--region", "ap-south", "--sink", "reporting-ap")
    assert result.exit_code == 1
    assert "denied" in result.output


def test_create_refuses_a_subject_that_is_not_registered(spine: GovernedSpine) -> None:
    result = spine_cli(spine, "topic", "create", spine.subject)
    assert result.exit_code == 1
    assert "not registered" in result.output


def test_list_shows_both_majors_after_a_major_publish(spine: GovernedSpine) -> None:
    spine.publish(avro_order(), version="1.0.0")
    spine.publish(avro_order().replace('"amount"', '"total"'), version="2.0.0")
    result = spine_cli(spine, "topic", "list", "--json")
    assert result.exit_code == 0, result.output
    mine = [r for r in json.loads(result.output) if r["subject"] == spine.subject]
    assert [(r["topic"], r["semver"], r["classification"]) for r in mine] == [
        (f"{spine.dataset}.v1", "1.0.0", "INTERNAL"),
        (f"{spine.dataset}.v2", "2.0.0", "INTERNAL"),
    ]
    described = spine_cli(spine, "topic", "describe", f"{spine.dataset}.v1", "--json")
    assert described.exit_code == 0, described.output
    assert json.loads(described.output)["partitions"] == 1


def test_dlq_replay_resends_a_dead_letter_once_and_never_twice(spine: GovernedSpine) -> None:
    topic = spine.publish(avro_order())["topic"]
    encoder = Encoder(spine.registry_client(), spine.registry_client().latest(spine.subject))
    with Producer(spine.kafka) as producer:
        writer = DlqWriter(producer, topic, "test-sink")
        value = encoder.encode(ORDERS[0], topic)
        writer.send(value, b"k", reason="sink down", error_code="X", stage="handle")
        writer.send(b"junk", None, reason="undecodable", error_code="UNDECODABLE", stage="decode")
    listed = spine_cli(spine, "topic", "dlq", "list", topic, "--json")
    assert listed.exit_code == 0, listed.output
    assert [(r["stage"], r["replayed"]) for r in json.loads(listed.output)] == [
        ("handle", False),
        ("decode", False),
    ]
    first = spine_cli(spine, "topic", "dlq", "replay", topic, "--json")
    assert first.exit_code == 1  # the junk one is still invalid
    assert json.loads(first.output)["sent"] == [0]
    second = spine_cli(spine, "topic", "dlq", "replay", topic, "--json")
    assert json.loads(second.output)["sent"] == []
    assert json.loads(second.output)["already_replayed"] == [0]
    [replayed] = read_topic(spine.kafka, topic)
    assert replayed.key() == b"k"
    shown = spine_cli(spine, "topic", "dlq", "show", topic, "--offset", "0")
    assert json.loads(shown.output)[0]["replayed"] is True
