"""Each CDC route is an OpenLineage job and each batch a run: the events arrive on ``_spine.lineage`` and
validate against the OpenLineage spec (real PostgreSQL, Debezium, broker and residency gate)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from spine.kafka import read_topic
from spine.topics import LINEAGE
from tests.integration.cdc.conftest import MATRIX, CdcEnv, wait_for
from tests.integration.cdc.test_router import sink_rows, start_pipeline
from tests.integration.residency_gate.gate import Gate, start_gate
from tests.unit.lineage.spec import validate_event

pytestmark = pytest.mark.integration


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(MATRIX.format(version="1", extra=""))  # payments to the US: denied
    running = start_gate(tmp_path / "gate-home", policy_file=matrix)
    try:
        yield running
    finally:
        running.stop()


def lineage_of(env: CdcEnv, route: str) -> list[dict[str, Any]]:
    job = f"cdc.{env.prefix}.{route}"
    events = [json.loads(r.value() or b"null") for r in read_topic(env.kafka, LINEAGE)]
    return [e for e in events if isinstance(e, dict) and e.get("job", {}).get("name") == job]


def test_each_batch_is_a_run_of_its_routes_job_with_the_decision_and_the_tables(
    cdc_env: CdcEnv, gate: Gate
) -> None:
    start_pipeline(cdc_env, gate)
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 1)")
    cdc_env.sql("INSERT INTO payments VALUES (1, 1, 9.99, '4111')")
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 1, 90, "the customer in the sink", logs)
    wait_for(
        lambda: any(e["eventType"] == "COMPLETE" for e in lineage_of(cdc_env, "customers")),
        60, "the COMPLETE of the customers batch", logs,
    )  # fmt: skip
    wait_for(
        lambda: any(e["eventType"] == "FAIL" for e in lineage_of(cdc_env, "payments")),
        60, "the FAIL of the denied payments batch", logs,
    )  # fmt: skip
    customers = lineage_of(cdc_env, "customers")
    for event in customers + lineage_of(cdc_env, "payments"):
        validate_event(event)
    complete = next(e for e in customers if e["eventType"] == "COMPLETE")
    run_id = complete["run"]["runId"]
    assert [e["eventType"] for e in customers if e["run"]["runId"] == run_id] == ["START", "COMPLETE"]
    assert complete["inputs"][0]["name"] == f"{cdc_env.db}.public.customers"
    assert complete["inputs"][0]["namespace"] == f"postgres://127.0.0.1:{cdc_env.server.port}"
    assert complete["outputs"][0]["name"] == "customers"
    assert complete["outputs"][0]["namespace"].startswith("sqlite://")
    decisions = complete["run"]["facets"]["spine_residency"]["decisions"]
    engine = sa.create_engine(cdc_env.sink_url)
    try:
        with engine.connect() as conn:
            recorded = [
                json.loads(ids)
                for (ids,) in conn.execute(
                    sa.text("SELECT decision_ids FROM _spine_cdc_batches WHERE route = 'customers'")
                )
            ]
    finally:
        engine.dispose()
    assert [d["decision_id"] for d in decisions] in recorded  # the decision recorded beside the batch
    assert decisions[0]["redacted_fields"] == [{"field": "email", "action": "mask"}]
    fail = next(e for e in lineage_of(cdc_env, "payments") if e["eventType"] == "FAIL")
    assert fail["run"]["facets"]["spine_residency"]["decisions"][0]["outcome"] == "deny"
    assert "denied" in fail["run"]["facets"]["errorMessage"]["message"]
