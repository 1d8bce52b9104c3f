"""The embedded Debezium source on a real PostgreSQL writes Connect-shaped change events to Kafka."""

from __future__ import annotations

import json

import pytest

from spine.kafka import read_topic
from tests.integration.cdc.conftest import CdcEnv, wait_for

pytestmark = pytest.mark.integration


def test_changes_arrive_on_the_table_topic_with_debeziums_envelope_and_key(cdc_env: CdcEnv) -> None:
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 10.50)")
    source = cdc_env.start("cdc.source", "source.log")
    topic = f"{cdc_env.prefix}.public.customers"

    def events() -> list[dict[str, object]]:
        return [json.loads(m.value() or b"null") for m in read_topic(cdc_env.kafka, topic) if m.value()]

    wait_for(
        lambda: len(events()) >= 1, 90, "the snapshot of the first row", lambda: cdc_env.log("source.log")
    )
    cdc_env.sql("INSERT INTO customers VALUES (2, 'Bob', 'bob@example.org', 'FR', 1.00)")
    cdc_env.sql("UPDATE customers SET country = 'DE' WHERE id = 2")
    cdc_env.sql("DELETE FROM customers WHERE id = 1")
    wait_for(lambda: len(events()) >= 4, 60, f"4 change events on {topic}", lambda: cdc_env.log("source.log"))
    payloads = [e["payload"] for e in events()]
    assert [p["op"] for p in payloads] == ["r", "c", "u", "d"]  # type: ignore[index]
    assert payloads[0]["after"]["balance"] == "10.50"  # type: ignore[index]
    assert payloads[3]["before"]["email"] == "ada@example.org"  # type: ignore[index]  # REPLICA IDENTITY FULL
    keys = [json.loads(m.key() or b"null") for m in read_topic(cdc_env.kafka, topic) if m.value()]
    assert keys[1]["payload"] == {"id": 2}
    assert source.poll() is None


def test_a_table_without_replica_identity_full_is_refused_with_one_line(cdc_env: CdcEnv) -> None:
    cdc_env.sql("ALTER TABLE payments REPLICA IDENTITY DEFAULT")
    source = cdc_env.start("cdc.source", "source.log")
    assert source.wait(60) == 2
    assert "table public.payments lacks REPLICA IDENTITY FULL" in cdc_env.log("source.log")


def test_a_missing_table_is_refused(cdc_env: CdcEnv) -> None:
    cdc_env.sql("DROP TABLE payments")
    source = cdc_env.start("cdc.source", "source.log")
    assert source.wait(60) == 2
    assert "table public.payments does not exist" in cdc_env.log("source.log")


def test_a_router_whose_sink_is_down_at_start_exits_3_naming_the_sink(cdc_env: CdcEnv) -> None:
    text = cdc_env.routes_file.read_text()
    cdc_env.routes_file.write_text(
        text.replace(cdc_env.sink_url, "postgresql+psycopg://spine@127.0.0.1:1/nowhere", 1)
    )
    router = cdc_env.start("cdc.router", "router.log", {"SPINE_CDC_RESIDENCY_URL": "http://127.0.0.1:1"})
    assert router.wait(60) == 3
    log = cdc_env.log("router.log")
    assert "sink analytics-eu is unreachable at start" in log
    assert "Traceback" not in log
