"""Checkpoints published to ``_spine.audit``, and online ``spine audit verify`` against them: a real gate on
real PostgreSQL with a real broker; an attacker rewrites ``audit_records`` and empties ``checkpoints``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from cli.main import app
from residency_gate.audit import seal
from spine.auth import Role
from spine.broker import free_port
from spine.kafka import Consumer
from spine.settings import KafkaSettings
from spine.topics import AUDIT
from tests.fixtures.postgres import PostgresServer
from tests.integration.residency_gate.gate import Gate, start_gate

pytestmark = pytest.mark.integration

ROUTE = {"dataset": "sales.orders", "sink": "us-analytics"}


def wait_published(gate: Gate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while gate.app.state.service.outbox_pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gate.app.state.service.outbox_pending() == 0, "the outbox did not drain"


def topic_messages(kafka: KafkaSettings, group: str, until: Callable[[list[Any]], bool]) -> list[Any]:
    seen: list[Any] = []
    with Consumer(kafka, group) as consumer:
        consumer.subscribe([AUDIT])
        deadline = time.monotonic() + 30
        while not until(seen) and time.monotonic() < deadline:
            seen.extend(consumer.consume(500, timeout=0.5))
    return seen


def spine_verify(gate: Gate, kafka: KafkaSettings, *extra: str) -> Any:
    env = {"SPINE_HOME": str(gate.home), "SPINE_KAFKA_BOOTSTRAP": kafka.bootstrap_or_raise()}
    args = ["audit", "verify", "--url", gate.url, "--token", gate.tokens[Role.SECURITY], *extra]
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


@pytest.fixture
def pg_gate(
    tmp_path: Path, database_factory: Callable[[], str], kafka_settings: KafkaSettings
) -> Iterator[tuple[Gate, str]]:
    url = database_factory()
    gate = start_gate(tmp_path / "home", database_url=url, kafka=kafka_settings, checkpoint_every=1)
    try:
        yield gate, url
    finally:
        gate.stop()


def test_every_checkpoint_is_published_to_spine_audit_apart_from_the_records(
    tmp_path: Path, kafka_settings: KafkaSettings, group_factory: Callable[[], str]
) -> None:
    gate = start_gate(tmp_path, kafka=kafka_settings, checkpoint_every=2)
    try:
        for _ in range(3):
            assert gate.post("/v1/evaluate", json={"routes": [ROUTE, ROUTE]}).status_code == 200
        wait_published(gate)
        stored = gate.get("/v1/audit/checkpoints", role=Role.SECURITY).json()["checkpoints"]
        key_id = gate.app.state.service.key_id
    finally:
        gate.stop()
    assert [c["tree_size"] for c in stored] == [3, 5, 7]

    def ours(messages: list[Any]) -> list[dict[str, Any]]:
        values = [json.loads(m.value()) for m in messages]
        return [v for v in values if v.get("kind") == "checkpoint" and v["key_id"] == key_id]

    messages = topic_messages(kafka_settings, group_factory(), lambda seen: len(ours(seen)) >= 3)
    published = ours(messages)
    assert [{k: v for k, v in p.items() if k != "kind"} for p in published] == stored
    keys = [m.key().decode() for m in messages if json.loads(m.value()).get("key_id") == key_id]
    assert keys == [f"checkpoint:{key_id}:{size}" for size in (3, 5, 7)]


def _rewrite_without(conn: psycopg.Connection[Any], deleted: int) -> None:
    """Delete record ``deleted`` and renumber and rehash every later one: a consistent forged chain."""
    rows = conn.execute("SELECT seq, record FROM audit_records ORDER BY seq").fetchall()
    conn.execute("DELETE FROM audit_records WHERE seq = %s", (deleted,))
    previous = json.loads(rows[deleted - 1][1])["hash"]
    for seq, text in rows[deleted + 1 :]:
        body = {k: v for k, v in json.loads(text).items() if k not in ("seq", "prev_hash", "hash")}
        record = seal(body, seq=seq - 1, prev_hash=previous)
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        conn.execute(
            "UPDATE audit_records SET seq = %s, hash = %s, prev_hash = %s, record = %s WHERE seq = %s",
            (seq - 1, record["hash"], record["prev_hash"], canonical, seq),
        )
        previous = record["hash"]


def test_online_verify_catches_a_rewritten_log_whose_checkpoints_table_was_emptied(
    pg_gate: tuple[Gate, str], postgres_server: PostgresServer, kafka_settings: KafkaSettings
) -> None:
    gate, url = pg_gate
    for _ in range(6):
        assert gate.post("/v1/evaluate", json=ROUTE).status_code == 200
    wait_published(gate)
    intact = spine_verify(gate, kafka_settings, "--json")
    assert intact.exit_code == 0, intact.output
    report = json.loads(intact.stdout)
    assert (report["ok"], report["records"], report["published_checkpoints"]) == (True, 7, 7)

    with psycopg.connect(postgres_server.dsn(url.rsplit("/", 1)[1]), autocommit=False) as conn:
        _rewrite_without(conn, 3)
        conn.execute("DELETE FROM checkpoints")
    forged = spine_verify(gate, kafka_settings)
    assert forged.exit_code == 1, forged.output
    assert "record seq 3" in forged.output
    assert "rewritten at or after record 3" in forged.output


def test_online_verify_exits_3_when_the_published_checkpoints_cannot_be_read(
    pg_gate: tuple[Gate, str],
) -> None:
    gate, _ = pg_gate
    down = KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}")
    result = spine_verify(gate, down)
    assert result.exit_code == 3, result.output
    assert "_spine.audit" in result.output
    skipped = spine_verify(gate, down, "--skip-published")
    assert skipped.exit_code == 0, skipped.output
    assert "WARNING" in skipped.output
    assert "published checkpoints were NOT checked" in skipped.output
