"""The small lineage graph the browser tests look at, built with the real OpenLineage client.

    pg public.customers (PII.email) -> cdc.customers -> crm.customers.v1 (PII.email, governed)
    crm.customers.v1 -> fraud.enrich [residency: eu -> us, email masked] -> fraud.customers_us
    fraud.customers_us -> warehouse.load (first seen a day later) -> warehouse.customer_contacts (PII.email)
    crm.customers.v1 + ref.countries (PIIX.code, not PII) -> analytics.daily -> analytics.customer_counts

So filtering by ``PII`` keeps the three PII datasets and the untagged ``fraud.customers_us`` between
them, and drops ``analytics.*`` and ``ref.countries``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset as cl
from openlineage.client.serde import Serde

from lineage.emit import (
    GOVERNANCE_FACET,
    RESIDENCY_FACET,
    RedactedField,
    ResidencyDecision,
    SpineGovernanceDatasetFacet,
    SpineResidencyRunFacet,
    producer_uri,
    schema_facet,
    tags_facet,
)
from tests.integration.lineage.service import Lineage

PRODUCER = producer_uri("browser-test")
PG = "postgres://crm-eu.example:5432/crm"
KAFKA = "kafka://127.0.0.1:9092"
JOBS = "data-spine"
DAY_ONE = "2026-11-01T10:00:00+00:00"
DAY_THREE = "2026-11-03T10:00:00+00:00"


@dataclass(frozen=True)
class Ds:
    namespace: str
    name: str
    columns: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str], ...] = ()  # (field, tag)
    governed: bool = False
    derived: tuple[tuple[str, Ds, str], ...] = ()  # (field, source dataset, source field)

    @property
    def node_id(self) -> str:
        return f"dataset:{self.namespace}:{self.name}"

    def facets(self) -> dict[str, Any]:
        facets: dict[str, Any] = {
            "schema": schema_facet([(n, t, None) for n, t in self.columns], producer=PRODUCER)
        }
        if self.tags:
            facets["tags"] = tags_facet(self.tags, source="spine-registry", producer=PRODUCER)
        if self.governed:
            facets[GOVERNANCE_FACET] = SpineGovernanceDatasetFacet(
                subject=f"{self.name.rsplit('.', 1)[0]}-value",
                schema_id=7,
                semver="1.2.0",
                governed_topic=self.name,
                version=3,
                schema_type="AVRO",
                producer=PRODUCER,
            )
        if self.derived:
            facets["columnLineage"] = cl.ColumnLineageDatasetFacet(
                fields={
                    field: cl.Fields(
                        inputFields=[cl.InputField(namespace=src.namespace, name=src.name, field=src_field)],
                        transformationType="IDENTITY" if field == src_field else "MASKED",
                    )
                    for field, src, src_field in self.derived
                },
                producer=PRODUCER,
            )
        return facets


CUSTOMERS = Ds(
    PG,
    "public.customers",
    (("id", "bigint"), ("email", "text"), ("country", "text")),
    (("email", "PII.email"),),
)
TOPIC = Ds(
    KAFKA,
    "crm.customers.v1",
    (("id", "long"), ("email", "string"), ("country", "string")),
    (("email", "PII.email"),),
    governed=True,
    derived=(("email", CUSTOMERS, "email"), ("id", CUSTOMERS, "id")),
)
FRAUD = Ds(
    KAFKA,
    "fraud.customers_us",
    (("id", "long"), ("email_masked", "string"), ("score", "double")),
    derived=(("email_masked", TOPIC, "email"),),
)
CONTACTS = Ds(
    "warehouse",
    "warehouse.customer_contacts",
    (("id", "bigint"), ("contact_email", "varchar")),
    (("contact_email", "PII.email"),),
    derived=(("contact_email", FRAUD, "email_masked"),),
)
COUNTRIES = Ds(
    "warehouse", "ref.countries", (("code", "char(2)"), ("name", "varchar")), (("code", "PIIX.code"),)
)
COUNTS = Ds("warehouse", "analytics.customer_counts", (("country", "varchar"), ("customers", "bigint")))

DECISION = ResidencyDecision(
    decision_id="dec-0001",
    outcome="allow_with_redaction",
    dataset="crm.customers",
    source_region="eu",
    destination_region="us",
    sink="fraud.customers_us",
    redacted_fields=[RedactedField("email", "mask")],
    policy_version="2026.11",
    policy_hash="ab" * 32,
)


def _event(
    kind: RunState,
    job: str,
    run_id: str,
    when: str,
    inputs: tuple[Ds, ...] = (),
    outputs: tuple[Ds, ...] = (),
    run_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    event = RunEvent(
        eventType=kind,
        eventTime=when,
        run=Run(runId=run_id, facets=run_facets or {}),
        job=Job(namespace=JOBS, name=job),
        inputs=[InputDataset(namespace=d.namespace, name=d.name, facets=d.facets()) for d in inputs],
        outputs=[OutputDataset(namespace=d.namespace, name=d.name, facets=d.facets()) for d in outputs],
        producer=PRODUCER,
    )
    data: dict[str, Any] = json.loads(Serde.to_json(event))
    return data


def _job_run(job: str, when: str, inputs: tuple[Ds, ...], outputs: tuple[Ds, ...]) -> list[dict[str, Any]]:
    run_id = str(uuid.uuid4())
    ended = (datetime.fromisoformat(when) + timedelta(seconds=42)).isoformat()
    return [
        _event(RunState.START, job, run_id, when, inputs, outputs),
        _event(RunState.COMPLETE, job, run_id, ended, inputs, outputs),
    ]


def events() -> list[dict[str, Any]]:
    fraud_run = str(uuid.uuid4())
    residency = {RESIDENCY_FACET: SpineResidencyRunFacet(decisions=[DECISION], producer=PRODUCER)}
    return [
        *_job_run("cdc.customers", DAY_ONE, (CUSTOMERS,), (TOPIC,)),
        _event(RunState.START, "fraud.enrich", fraud_run, DAY_ONE, (TOPIC,), (FRAUD,)),
        # The gate adds its decisions to the run in an OTHER event, as residency_gate.lineage does.
        _event(RunState.OTHER, "fraud.enrich", fraud_run, DAY_ONE, run_facets=residency),
        _event(RunState.COMPLETE, "fraud.enrich", fraud_run, "2026-11-01T10:01:05+00:00", (TOPIC,), (FRAUD,)),
        *_job_run("analytics.daily", DAY_ONE, (TOPIC, COUNTRIES), (COUNTS,)),
        *_job_run("warehouse.load", DAY_THREE, (FRAUD,), (CONTACTS,)),
    ]


def seed(service: Lineage) -> None:
    batch = events()
    answer = service.post("/api/v1/lineage/batch", json=batch)
    answer.raise_for_status()
    assert answer.json()["stored"] == len(batch)


def job_id(name: str) -> str:
    return f"job:{JOBS}:{name}"


PII_NODES = {
    CUSTOMERS.node_id,
    job_id("cdc.customers"),
    TOPIC.node_id,
    job_id("fraud.enrich"),
    FRAUD.node_id,
    job_id("warehouse.load"),
    CONTACTS.node_id,
}
PII_TAGGED = {CUSTOMERS.node_id, TOPIC.node_id, CONTACTS.node_id}
