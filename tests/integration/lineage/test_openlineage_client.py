"""The real openlineage-python client, unchanged, sends to the service over HTTP and over Kafka."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport
from openlineage.client.transport.kafka import KafkaConfig, KafkaTransport

from spine.auth import Role
from spine.headers import DLQ_ERROR_CODE, DLQ_ORIGIN_TOPIC, DLQ_REASON, header_value
from spine.kafka import Consumer, Producer
from spine.settings import KafkaSettings
from tests.fixtures.kafka import TopicFactory
from tests.integration.lineage.service import Lineage, start_lineage, wait_for
from tests.unit.lineage.events import run_event

pytestmark = pytest.mark.integration

PRODUCER = "https://example.com/data-spine/tests"


def _events(job: str, source: str, target: str) -> list[RunEvent]:
    run = Run(runId=str(uuid.uuid4()))
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="int")]
    )
    now = datetime.now(UTC).isoformat()
    return [
        RunEvent(
            eventType=state,
            eventTime=now,
            run=run,
            job=Job(namespace="ol-client", name=job),
            producer=PRODUCER,
            inputs=[InputDataset(namespace="ol-client", name=source, facets={"schema": schema})],
            outputs=[OutputDataset(namespace="ol-client", name=target)],
        )
        for state in (RunState.START, RunState.COMPLETE)
    ]


def test_the_openlineage_http_transport_with_an_api_key(lineage: Lineage) -> None:
    config = HttpConfig(url=lineage.url, auth=ApiKeyTokenProvider({"api_key": lineage.tokens[Role.PRODUCER]}))
    client = OpenLineageClient(transport=HttpTransport(config))
    for event in _events("http-job", "raw", "clean"):
        client.emit(event)
    job = lineage.get("/api/v1/namespaces/ol-client/jobs/http-job").json()
    assert job["latestRun"]["state"] == "COMPLETED"
    graph = lineage.get("/api/v1/lineage", params={"nodeId": "dataset:ol-client:raw", "depth": 2}).json()
    assert {n["id"] for n in graph["graph"]} == {
        "dataset:ol-client:raw",
        "job:ol-client:http-job",
        "dataset:ol-client:clean",
    }


@pytest.fixture
def kafka_lineage(
    tmp_path: Path, kafka_settings: KafkaSettings, topic_factory: TopicFactory
) -> Iterator[tuple[Lineage, str]]:
    topic = topic_factory(prefix="_spine.lineage")
    running = start_lineage(tmp_path / "home", kafka=kafka_settings, topic=topic)
    try:
        yield running, topic
    finally:
        running.stop()


def test_the_openlineage_kafka_transport_and_dead_letters(
    kafka_lineage: tuple[Lineage, str], kafka_settings: KafkaSettings, group_factory: object
) -> None:
    lineage, topic = kafka_lineage
    config = KafkaConfig(
        config={"bootstrap.servers": kafka_settings.bootstrap_or_raise()}, topic=topic, flush=True
    )
    client = OpenLineageClient(transport=KafkaTransport(config))
    for event in _events("kafka-job", "events", "sessions"):
        client.emit(event)
    with Producer(kafka_settings) as producer:
        producer.send(topic, b"{not json", b"k1").result(10)
        producer.send(topic, json.dumps(run_event("j", event_type="NOPE")).encode(), b"k2").result(10)

    def runs() -> list[object]:
        response = lineage.get("/api/v1/namespaces/ol-client/jobs/kafka-job/runs")
        return response.json()["runs"] if response.status_code == 200 else []

    wait_for(lambda: bool(runs()) and runs()[0]["state"] == "COMPLETED")  # type: ignore[index]
    with Consumer(kafka_settings, f"dlq-{uuid.uuid4().hex[:8]}") as consumer:
        consumer.subscribe([f"{topic}.dlq"])
        letters = []
        for _ in range(60):
            letters += consumer.consume(10, 0.5)
            if len(letters) >= 2:
                break
    assert [m.key() for m in letters] == [b"k1", b"k2"]
    assert letters[0].value() == b"{not json"
    assert header_value(letters[0].headers(), DLQ_ERROR_CODE) == "40001"
    assert header_value(letters[1].headers(), DLQ_ERROR_CODE) == "42202"
    assert "$.eventType" in (header_value(letters[1].headers(), DLQ_REASON) or "")
    assert header_value(letters[1].headers(), DLQ_ORIGIN_TOPIC) == topic
    assert lineage.get("/health/ready").json()["status"] == "ok"
