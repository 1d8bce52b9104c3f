"""The registry's lineage: each registered version is a new dataset version of its governed topic.

One COMPLETE run of the job ``registry.register.<subject>`` whose output is the topic (namespace
``kafka://<bootstrap>``) with the standard ``schema``, ``tags``, ``version``, ``dataSource`` facets and
the spine's ``spine_governance`` facet. Pure builders; the service queues the event in its write transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf import descriptor_pb2
from openlineage.client.event_v2 import Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import dataset_version_dataset, datasource_dataset, job_type_job
from openlineage.client.uuid import generate_new_uuid
from sqlalchemy.engine import Connection

from lineage.emit import (
    GOVERNANCE_FACET,
    LineageEmitter,
    SpineGovernanceDatasetFacet,
    kafka_namespace,
    producer_uri,
    schema_facet,
    tags_facet,
)
from registry.lint.walk import fields
from registry.schemas import ParsedSchema
from registry.schemas.avro import AvroSchema
from registry.schemas.jsonschema import JsonSchema

PRODUCER = producer_uri("registry")
JOB_NAMESPACE = "data-spine"
TAG_SOURCE = "spine-registry"


@dataclass(frozen=True, slots=True)
class RegisteredVersion:
    subject: str
    version: int
    schema_id: int
    semver: str
    topic: str
    schema: ParsedSchema


def _avro_type(node: Any) -> str:
    if isinstance(node, list):
        return "|".join(_avro_type(branch) for branch in node)
    if isinstance(node, dict):
        return str(node.get("logicalType") or node.get("name") or node["type"])
    return str(node)


def _proto_type(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type_name:
        kind = field.type_name.lstrip(".")
    else:
        kind = descriptor_pb2.FieldDescriptorProto.Type.Name(field.type).removeprefix("TYPE_").lower()
    repeated = field.label == descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
    return f"repeated {kind}" if repeated else kind


def _json_type(node: Any) -> str | None:
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    return str(kind) if kind is not None else ("object" if "$ref" in node else None)


def columns(schema: ParsedSchema) -> Iterator[tuple[str, str | None, str | None]]:
    """``(dotted path, type, doc)`` of every field, depth first, in the schema language's own type names."""
    for info in fields(schema):
        node = info.node
        if isinstance(schema, AvroSchema):
            yield info.name_path, _avro_type(node["type"]), node.get("doc")
        elif isinstance(schema, JsonSchema):
            doc = node.get("description") if isinstance(node, dict) else None
            yield info.name_path, _json_type(schema.resolve(node)), doc
        else:
            yield info.name_path, _proto_type(node), None


def version_event(registered: RegisteredVersion, *, namespace: str, when: datetime | None = None) -> RunEvent:
    """The lineage event of one registered version (``namespace`` is ``kafka://<bootstrap>``)."""
    schema = registered.schema
    tags = [(field.path, tag) for field in schema.tagged_fields() for tag in field.tags]
    dataset = OutputDataset(
        namespace=namespace,
        name=registered.topic,
        facets={
            "schema": schema_facet(columns(schema), producer=PRODUCER),
            "tags": tags_facet(tags, source=TAG_SOURCE, producer=PRODUCER),
            "dataSource": datasource_dataset.DatasourceDatasetFacet(
                name=namespace, uri=namespace, producer=PRODUCER
            ),
            "version": dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=registered.semver, producer=PRODUCER
            ),
            GOVERNANCE_FACET: SpineGovernanceDatasetFacet(
                subject=registered.subject,
                schema_id=registered.schema_id,
                semver=registered.semver,
                governed_topic=registered.topic,
                version=registered.version,
                schema_type=schema.schema_type.value,
                producer=PRODUCER,
            ),
        },
    )
    job_type = job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="DATA_SPINE", jobType="SCHEMA_REGISTRATION", producer=PRODUCER
    )
    moment = when or datetime.now(UTC)
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=moment.isoformat(),
        run=Run(runId=str(generate_new_uuid(moment))),
        job=Job(
            namespace=JOB_NAMESPACE,
            name=f"registry.register.{registered.subject}",
            facets={"jobType": job_type},
        ),
        outputs=[dataset],
        producer=PRODUCER,
    )


class RegistryLineage:
    """Queue a registered version's lineage event in the registry's outbox, in its transaction."""

    def __init__(self, bootstrap: str, emitter: LineageEmitter | None = None) -> None:
        self.namespace = kafka_namespace(bootstrap)
        self.emitter = emitter or LineageEmitter.for_outbox("registry")

    def registered(self, conn: Connection, version: RegisteredVersion) -> None:
        self.emitter.emit_in(conn, version_event(version, namespace=self.namespace))


__all__ = ["JOB_NAMESPACE", "PRODUCER", "RegisteredVersion", "RegistryLineage", "columns", "version_event"]
