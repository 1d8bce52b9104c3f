"""The emitter: events built with openlineage-python validate against the shipped spec, go into the
caller's transaction, and a spool keeps them when no broker answers."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from openlineage.client.event_v2 import Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.serde import Serde

from lineage.emit import (
    GOVERNANCE_FACET,
    RESIDENCY_FACET,
    LineageEmitter,
    RedactedField,
    ResidencyDecision,
    SpineGovernanceDatasetFacet,
    SpineResidencyRunFacet,
    encode,
    kafka_namespace,
    lineage_topic_spec,
    producer_uri,
    schema_facet,
    tags_facet,
)
from spine import outbox
from spine.broker import free_port
from spine.settings import KafkaSettings
from spine.topics import LINEAGE
from tests.unit.lineage.spec import shipped_schemas, validate_event

PRODUCER = producer_uri("test")


def residency_facet(**overrides: Any) -> SpineResidencyRunFacet:
    decision = ResidencyDecision(
        decision_id="d-1",
        outcome="allow_with_redaction",
        dataset="crm.customers",
        source_region="eu",
        destination_region="us",
        sink="fraud-us",
        redacted_fields=[RedactedField("email", "mask")],
        policy_version="2026.11",
        policy_hash="ab" * 32,
    )
    return SpineResidencyRunFacet(decisions=[decision], producer=PRODUCER, **overrides)


def full_event(run_id: str | None = None) -> RunEvent:
    dataset = OutputDataset(
        namespace="kafka://127.0.0.1:9092",
        name="crm.customers.v1",
        facets={
            "schema": schema_facet(
                [("id", "long", None), ("address", "record", None), ("address.country", "string", "ISO")],
                producer=PRODUCER,
            ),
            "tags": tags_facet([("email", "PII.email")], source="spine-registry", producer=PRODUCER),
            GOVERNANCE_FACET: SpineGovernanceDatasetFacet(
                subject="crm.customers-value",
                schema_id=7,
                semver="1.0.0",
                governed_topic="crm.customers.v1",
                version=1,
                schema_type="AVRO",
                producer=PRODUCER,
            ),
        },
    )
    return RunEvent(
        eventType=RunState.RUNNING,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=run_id or str(uuid.uuid4()), facets={RESIDENCY_FACET: residency_facet()}),
        job=Job(namespace="data-spine", name="crm.sync"),
        outputs=[dataset],
        producer=PRODUCER,
    )


def as_dict(event: RunEvent) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Serde.to_json(event))
    return data


def test_an_event_with_standard_and_spine_facets_validates_against_the_shipped_spec() -> None:
    validate_event(as_dict(full_event()))


def test_custom_facets_carry_producer_and_the_url_of_their_shipped_schema() -> None:
    data = as_dict(full_event())
    facet = data["run"]["facets"][RESIDENCY_FACET]
    assert facet["_producer"] == PRODUCER
    assert facet["_schemaURL"].split("#")[0] in shipped_schemas()
    governance = data["outputs"][0]["facets"][GOVERNANCE_FACET]
    assert governance["_schemaURL"].split("#")[0] in shipped_schemas()


def test_every_shipped_custom_schema_is_a_valid_draft_2020_12_schema() -> None:
    for uri, document in shipped_schemas().items():
        if "data-spine" in uri:
            jsonschema.Draft202012Validator.check_schema(document)


def test_a_residency_facet_without_a_decision_id_fails_its_schema() -> None:
    data = as_dict(full_event())
    del data["run"]["facets"][RESIDENCY_FACET]["decisions"][0]["decision_id"]
    with pytest.raises(jsonschema.ValidationError, match="decision_id"):
        validate_event(data)


def test_a_tag_without_value_fails_the_standard_tags_schema() -> None:
    data = as_dict(full_event())
    del data["outputs"][0]["facets"]["tags"]["tags"][0]["value"]
    with pytest.raises(jsonschema.ValidationError, match="value"):
        validate_event(data)


def test_tags_facet_has_one_entry_per_tag_with_field_and_source() -> None:
    facet = tags_facet(
        [("email", "PII.email"), ("email", "PII"), (None, "GDPR"), ("email", "PII")],
        source="spine-registry",
        producer=PRODUCER,
    )
    entries = Serde.to_dict(facet)["tags"]
    assert entries == [
        {"key": "PII.email", "value": "true", "field": "email", "source": "spine-registry"},
        {"key": "PII", "value": "true", "field": "email", "source": "spine-registry"},
        {"key": "GDPR", "value": "true", "source": "spine-registry"},
    ]


def test_schema_facet_nests_fields_by_dotted_path() -> None:
    facet = Serde.to_dict(
        schema_facet(
            [("id", "long", None), ("address", "record", None), ("address.country", "string", None)],
            producer=PRODUCER,
        )
    )
    address = facet["fields"][1]
    assert [f["name"] for f in facet["fields"]] == ["id", "address"]
    assert address["fields"] == [{"name": "country", "type": "string", "ordinal_position": 1, "fields": []}]


def test_records_are_keyed_by_run_id_and_hold_the_clients_serialization() -> None:
    run_id = str(uuid.uuid4())
    event = full_event(run_id)
    key, value = encode(event)
    assert key == run_id.encode()
    assert value == Serde.to_json(event).encode()


def test_kafka_namespace_names_the_first_bootstrap_server() -> None:
    assert kafka_namespace("broker-1:9092,broker-2:9092") == "kafka://broker-1:9092"
    assert kafka_namespace("PLAINTEXT://10.0.0.1:9092") == "kafka://10.0.0.1:9092"


def test_the_lineage_topic_is_created_with_explicit_configs() -> None:
    spec = lineage_topic_spec()
    assert spec.name == LINEAGE
    assert spec.partitions > 1
    assert spec.config["cleanup.policy"] == "delete"
    assert "retention.ms" in spec.config


def test_emit_in_writes_in_the_callers_transaction_and_a_rollback_takes_it_back() -> None:
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    outbox.outbox_table(metadata)
    metadata.create_all(engine)
    emitter = LineageEmitter.for_outbox("registry")
    with engine.connect() as conn:
        with conn.begin() as tx:
            emitter.emit_in(conn, full_event())
            tx.rollback()
        with conn.begin():
            emitter.emit_in(conn, full_event(), full_event())
        rows = outbox.pending(conn, 10)
    assert [r.topic for r in rows] == [LINEAGE, LINEAGE]
    assert ("spine.producer", b"registry") in rows[0].headers
    validate_event(json.loads(rows[0].value))


def test_a_spool_keeps_every_event_when_no_broker_answers(tmp_path: Path) -> None:
    nowhere = KafkaSettings(bootstrap=f"127.0.0.1:{free_port()}")
    spool = LineageEmitter.for_spool(tmp_path, "cli", nowhere)
    for _ in range(20):
        spool.emit(full_event())
    assert spool.close(timeout=1.0) == 20
    again = LineageEmitter.for_spool(tmp_path, "cli")  # no Kafka: only opens the spool
    assert again.pending() == 20
    assert again.close() == 20
