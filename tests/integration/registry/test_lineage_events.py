"""Each registered version reaches ``_spine.lineage`` as a dataset version of its governed topic."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from lineage.emit import GOVERNANCE_FACET, kafka_namespace
from spine.kafka import Admin, read_topic
from spine.settings import KafkaSettings
from spine.topics import LINEAGE
from tests.integration.registry.conftest import RunningRegistry
from tests.unit.lineage.spec import validate_event

pytestmark = pytest.mark.integration


def order(*fields: dict[str, Any]) -> str:
    document = {"type": "record", "name": "Order", "namespace": "com.example", "doc": "An order."}
    return json.dumps({**document, "fields": list(fields)})


ID = {"name": "id", "type": "long", "doc": "Id."}
EMAIL = {"name": "email", "type": "string", "doc": "Mail.", "confluent:tags": ["PII.email"]}
TOTAL = {"name": "total", "type": "double", "doc": "Total."}


def lineage_of(kafka: KafkaSettings, subject: str, want: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The lineage events of ``subject``'s registrations, oldest first."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        events = [json.loads(m.value() or b"") for m in read_topic(kafka, LINEAGE)]
        found = [e for e in events if e["job"]["name"] == f"registry.register.{subject}"]
        if len(found) >= want:
            break
        time.sleep(0.3)
    return sorted(found, key=lambda e: e["eventTime"])


def test_registered_versions_are_dataset_versions_of_their_governed_topics(
    registry_server: RunningRegistry, kafka_settings: KafkaSettings
) -> None:
    subject = f"lin{uuid.uuid4().hex[:8]}.orders-value"
    base = subject.removesuffix("-value")
    headers = registry_server.tokens.header("producer")
    with httpx.Client(base_url=registry_server.url, headers=headers) as http:
        first = http.post(f"/subjects/{subject}/versions", json={"schema": order(ID, EMAIL)})
        assert first.status_code == 200, first.text
        refused = http.post(f"/subjects/{subject}/versions", json={"schema": order(TOTAL)})
        assert refused.status_code == 409
        major = http.post(f"/schemas/{subject}", json={"schema": order(TOTAL), "version": "2.0.0"})
        assert major.status_code == 200, major.text

    events = lineage_of(kafka_settings, subject, 2)
    assert len(events) == 2, "one event per registered version, none for the refused one"
    for event in events:
        validate_event(event)
    first_out, second_out = (e["outputs"][0] for e in events)
    assert first_out["namespace"] == kafka_namespace(kafka_settings.bootstrap or "")
    assert (first_out["name"], second_out["name"]) == (f"{base}.v1", f"{base}.v2")
    assert first_out["facets"]["tags"]["tags"] == [
        {"key": "PII.email", "value": "true", "field": "email", "source": "spine-registry"}
    ]
    assert first_out["facets"][GOVERNANCE_FACET]["schema_id"] == first.json()["id"]
    assert second_out["facets"][GOVERNANCE_FACET]["semver"] == "2.0.0"
    assert second_out["facets"]["tags"]["tags"] == []


def test_the_relay_creates_the_lineage_topic_with_its_configs(
    registry_server: RunningRegistry, kafka_settings: KafkaSettings
) -> None:
    # The session's broker is shared: another test's producer may have auto-created the topic without its
    # configs. Deleting it also makes the relay notice a lost topic and create it again.
    Admin(kafka_settings).delete_topics([LINEAGE])
    subject = f"lin{uuid.uuid4().hex[:8]}-value"
    headers = registry_server.tokens.header("producer")
    with httpx.Client(base_url=registry_server.url, headers=headers) as http:
        assert http.post(f"/subjects/{subject}/versions", json={"schema": order(ID)}).status_code == 200
    assert lineage_of(kafka_settings, subject, 1)
    described = Admin(kafka_settings).describe_topic(LINEAGE)
    assert described.partitions == 4
    assert described.config.get("cleanup.policy") == "delete"
