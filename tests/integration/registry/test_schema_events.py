"""Schema events reach ``_spine.schemas`` through the outbox, including after a broker outage."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.events import decode_event, event_schema
from registry.storage import Database
from spine import outbox
from spine.broker import EmbeddedBroker, free_port
from spine.kafka import Consumer
from spine.settings import KafkaSettings
from tests.integration.registry.conftest import RunningRegistry, Tokens, build_app

pytestmark = pytest.mark.integration

SCHEMA = '{"type": "record", "name": "E", "namespace": "x", "doc": "E.", "fields": []}'


def read_events(
    kafka: KafkaSettings, subject_prefix: str, want: int, timeout: float = 60
) -> list[dict[str, Any]]:
    schema = event_schema()
    consumer = Consumer(kafka, f"events-{uuid.uuid4().hex[:8]}")
    events: list[dict[str, Any]] = []
    try:
        consumer.subscribe(["_spine.schemas"])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(events) < want:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            key = msg.key()
            value = msg.value()
            assert isinstance(key, bytes)
            assert isinstance(value, bytes)
            if key.decode().startswith(subject_prefix):
                event = decode_event(schema, value)
                assert event["subject"] == key.decode()
                events.append(event)
    finally:
        consumer.close()
    return events


def test_registration_and_deletion_events_are_published(
    registry_server: RunningRegistry, kafka_settings: KafkaSettings
) -> None:
    subject = f"ev-{uuid.uuid4().hex[:8]}-value"
    headers = registry_server.tokens.header("producer")
    with httpx.Client(base_url=registry_server.url, headers=headers) as http:
        registered = http.post(f"/subjects/{subject}/versions", json={"schema": SCHEMA}).json()
        assert http.delete(f"/subjects/{subject}").status_code == 200
    events = read_events(kafka_settings, subject, 2)
    assert [e["type"] for e in events] == ["REGISTERED", "DELETED"]
    assert events[0]["schema_id"] == registered["id"]
    assert events[0]["version"] == 1
    assert events[0]["semver"]


def test_events_written_while_kafka_is_down_are_sent_when_it_returns(tmp_path: Path, tokens: Tokens) -> None:
    port = free_port()
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{port}")
    subjects = [f"down-{n}-value" for n in range(5)]
    with TestClient(build_app(tmp_path, kafka)) as client:
        client.headers.update(tokens.header("admin"))
        for subject in subjects:
            assert client.post(f"/subjects/{subject}/versions", json={"schema": SCHEMA}).status_code == 200
        assert client.put(f"/config/{subjects[0]}", json={"compatibility": "NONE"}).status_code == 200
        assert client.delete(f"/subjects/{subjects[1]}").status_code == 200
        db = Database(f"sqlite:///{tmp_path / 'registry' / 'registry.db'}")
        with db.read() as conn:
            # 7 schema events and one lineage event per registered version.
            assert outbox.stats(conn).pending == 7 + len(subjects)
        broker = EmbeddedBroker(port, log_file=tmp_path / "broker.log")
        broker.start()
        try:
            events = read_events(kafka, "down-", 7)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with db.read() as conn:
                    if not outbox.stats(conn).pending:
                        break
                time.sleep(0.2)
            with db.read() as conn:
                assert outbox.stats(conn).pending == 0
        finally:
            broker.stop()
        db.dispose()
    kinds = [(e["subject"], e["type"]) for e in events]
    assert sorted(kinds) == sorted(
        [(s, "REGISTERED") for s in subjects] + [(subjects[0], "CONFIG_CHANGED"), (subjects[1], "DELETED")]
    )
