"""PostgreSQL -> real Debezium -> Tansu -> router -> residency gate per batch -> SQLite sink."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from spine.auth import Role
from spine.headers import DlqHeaders
from spine.kafka import read_topic
from spine.topics import LINEAGE
from tests.integration.cdc.conftest import FINANCIAL_TO_US, MATRIX, CdcEnv, wait_for
from tests.integration.residency_gate.gate import Gate, start_gate

pytestmark = pytest.mark.integration


@pytest.fixture
def cdc_gate(tmp_path: Path) -> Iterator[Gate]:
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(MATRIX.format(version="1", extra=""))
    gate = start_gate(tmp_path / "gate-home", policy_file=matrix)
    try:
        yield gate
    finally:
        gate.stop()


def sink_rows(env: CdcEnv, table: str) -> list[dict[str, object]]:
    engine = sa.create_engine(env.sink_url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(table):
                return []
            return [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id"))]
    finally:
        engine.dispose()


def start_pipeline(env: CdcEnv, gate: Gate) -> None:
    env.start("cdc.source", "source.log")
    env.start(
        "cdc.router",
        "router.log",
        {"SPINE_CDC_RESIDENCY_URL": gate.url, "SPINE_TOKEN": gate.tokens[Role.CONSUMER]},
    )
    env.wait_streaming()


def test_insert_update_delete_and_truncate_replicate_with_the_email_masked(
    cdc_env: CdcEnv, cdc_gate: Gate
) -> None:
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 10.50)")
    start_pipeline(cdc_env, cdc_gate)
    logs = lambda: cdc_env.log("source.log")[-1500:] + cdc_env.log("router.log")[-1500:]  # noqa: E731
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 1, 120, "the snapshot row in the sink", logs)
    cdc_env.sql("INSERT INTO customers VALUES (2, 'Bob', 'bob@example.org', 'FR', 1.00)")
    cdc_env.sql("INSERT INTO customers VALUES (3, 'Cy', 'cy@example.org', 'FR', 2.00)")
    cdc_env.sql("UPDATE customers SET country = 'DE', balance = 7.25 WHERE id = 2")
    cdc_env.sql("DELETE FROM customers WHERE id = 1")

    def replicated() -> bool:
        rows = sink_rows(cdc_env, "customers")
        return [r["id"] for r in rows] == [2, 3] and rows[0]["country"] == "DE"

    wait_for(replicated, 60, "insert, update and delete in the sink", logs)
    rows = sink_rows(cdc_env, "customers")
    assert rows[0]["full_name"] == "Bob"  # renamed column
    assert rows[0]["balance"] == "7.25"  # decimals as strings, never as base64 bytes
    assert {r["email"] for r in rows} == {"****"}  # masked by the gate's decision before the sink
    engine = sa.create_engine(cdc_env.sink_url)
    with engine.connect() as conn:
        text = "\n".join(str(r) for r in conn.execute(sa.text("SELECT * FROM customers")))
        batches = list(conn.execute(sa.text("SELECT route, decision_ids, rows FROM _spine_cdc_batches")))
    engine.dispose()
    assert "bob@example.org" not in text
    assert batches
    assert all(json.loads(ids) for _, ids, _ in batches)
    cdc_env.sql("TRUNCATE customers")
    wait_for(lambda: sink_rows(cdc_env, "customers") == [], 60, "the truncate in the sink", logs)


def test_a_denied_classification_lands_in_the_dlq_with_its_reason_and_nothing_in_the_sink(
    cdc_env: CdcEnv, cdc_gate: Gate
) -> None:
    start_pipeline(cdc_env, cdc_gate)
    cdc_env.sql("INSERT INTO payments VALUES (10, 1, 99.99, '4111-1111')")
    cdc_env.sql("INSERT INTO customers VALUES (5, 'Eve', 'eve@example.org', 'UK', 0)")
    dlq = f"{cdc_env.prefix}.public.payments.dlq"
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    wait_for(lambda: len(read_topic(cdc_env.kafka, dlq)) >= 1, 120, "the denied payment in the DLQ", logs)
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 1, 60, "the allowed customer", logs)
    [letter] = read_topic(cdc_env.kafka, dlq)
    headers = DlqHeaders.from_kafka(letter.headers())
    assert headers is not None
    assert headers.stage == "gate"
    assert headers.route == "payments"
    assert headers.decision_id
    assert "billing.payments" in headers.reason or "PII.financial" in headers.reason, headers.reason
    original = [m for m in read_topic(cdc_env.kafka, f"{cdc_env.prefix}.public.payments") if m.value()]
    assert letter.value() == original[0].value()  # the event untouched
    assert letter.key() == original[0].key()
    assert sink_rows(cdc_env, "payments") == []


def test_dlq_replay_after_a_policy_fix_lands_every_record_once(
    cdc_env: CdcEnv, cdc_gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    start_pipeline(cdc_env, cdc_gate)
    for i in range(1, 6):
        cdc_env.sql("INSERT INTO payments VALUES (%s, 1, %s, 'card')", (i, i * 10))
    cdc_env.sql("UPDATE payments SET amount = 99 WHERE id = 3")
    cdc_env.sql("DELETE FROM payments WHERE id = 5")
    dlq = f"{cdc_env.prefix}.public.payments.dlq"
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    wait_for(lambda: len(read_topic(cdc_env.kafka, dlq)) >= 7, 120, "7 denied events in the DLQ", logs)
    assert sink_rows(cdc_env, "payments") == []
    for name, value in {
        "SPINE_HOME": str(cdc_env.home),
        "SPINE_KAFKA_BOOTSTRAP": cdc_env.kafka.bootstrap_or_raise(),
        "SPINE_RESIDENCY_URL": cdc_gate.url,
        "SPINE_TOKEN": cdc_gate.tokens[Role.ADMIN],
    }.items():
        monkeypatch.setenv(name, value)
    args = ["cdc", "dlq", "replay", "payments", "--routes", str(cdc_env.routes_file)]
    still = CliRunner().invoke(app, args)
    assert still.exit_code == 1, still.output  # the policy still denies: nothing lands
    assert "7 refused" in still.output
    assert sink_rows(cdc_env, "payments") == []

    fixed = MATRIX.format(version="2", extra=FINANCIAL_TO_US)
    response = cdc_gate.post("/v1/policy", content=fixed.encode(), params={"source": "fixed.yaml"})
    assert response.status_code in {200, 201}, response.text
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "7 landed" in first.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "0 landed, 7 already replayed" in again.output
    rows = sink_rows(cdc_env, "payments")
    assert [(r["id"], r["amount"]) for r in rows] == [(1, "10.00"), (2, "20.00"), (3, "99.00"), (4, "40.00")]
    # Each landing is a run of the route's job; the router's relay delivers them (its batches all failed).
    job = f"cdc.{cdc_env.prefix}.payments"

    def completed() -> list[dict[str, Any]]:
        events = [json.loads(m.value() or b"{}") for m in read_topic(cdc_env.kafka, LINEAGE)]
        return [e for e in events if e["job"]["name"] == job and e["eventType"] == "COMPLETE"]

    wait_for(lambda: len(completed()) >= 7, 60, "the replay's lineage runs", logs)
    assert len(completed()) == 7
    assert all("spine_residency" in e["run"]["facets"] for e in completed())
    listed = CliRunner().invoke(
        app, ["cdc", "dlq", "list", "payments", "--json", "--routes", str(cdc_env.routes_file)]
    )
    assert listed.exit_code == 0, listed.output
    assert all(r["replayed"] and r["stage"] == "gate" for r in json.loads(listed.output))
    status = CliRunner().invoke(app, ["cdc", "status", "--json", "--routes", str(cdc_env.routes_file)])
    assert status.exit_code == 0, status.output
    by_route = {s["route"]: s for s in json.loads(status.output)}
    payments = by_route["payments"]
    assert payments["dlq_depth"] == 0  # every dead letter replayed
    assert payments["state"] == "streaming"
    assert payments["last_decision"]
    assert payments["lag_p95_ms"] is not None
    assert payments["lag_p95_ms"] >= payments["lag_p50_ms"] >= 0
    assert payments["slot_retained_wal_bytes"] is not None


def test_a_column_added_mid_stream_reaches_the_sink_as_a_new_nullable_column(
    cdc_env: CdcEnv, cdc_gate: Gate
) -> None:
    start_pipeline(cdc_env, cdc_gate)
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 1)")
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 1, 60, "the first row", logs)
    cdc_env.sql("ALTER TABLE customers ADD COLUMN tier text")
    cdc_env.sql("INSERT INTO customers VALUES (2, 'Bob', 'bob@example.org', 'FR', 2, 'gold')")
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 2, 60, "the row with the new column", logs)
    rows = sink_rows(cdc_env, "customers")
    assert [r["tier"] for r in rows] == [None, "gold"]


def test_an_unreachable_gate_denies_and_dead_letters_the_batch(cdc_env: CdcEnv) -> None:
    cdc_env.start("cdc.source", "source.log")
    cdc_env.start("cdc.router", "router.log", {"SPINE_CDC_RESIDENCY_URL": "http://127.0.0.1:1"})
    cdc_env.wait_streaming()
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 1)")
    dlq = f"{cdc_env.prefix}.public.customers.dlq"
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    wait_for(lambda: len(read_topic(cdc_env.kafka, dlq)) >= 1, 60, "the dead letter", logs)
    headers = DlqHeaders.from_kafka(read_topic(cdc_env.kafka, dlq)[0].headers())
    assert headers is not None
    assert "residency gate unreachable" in headers.reason
    assert sink_rows(cdc_env, "customers") == []
