"""Pure: the OpenLineage events of a CDC batch. Each route is a job (``cdc.<source>.<route>``), each batch
a run: START and COMPLETE (or FAIL), the source table as input, the sink table as output, and the
residency decision of the batch as the ``spine_residency`` run facet.

The router queues START and COMPLETE in the sink's outbox inside the transaction that writes the batch, so
a committed batch always has its run and an uncommitted one never does; a batch whose sink write failed
has its FAIL sent through the local spool (the sink could not take it).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, error_message_run

from cdc.routes import Route, RouteFile
from lineage.emit import RESIDENCY_FACET, SpineResidencyRunFacet, producer_uri
from spine.governed.lineage import JOB_NAMESPACE

if TYPE_CHECKING:
    from residency_gate.evaluate import Decision

PRODUCER = producer_uri("cdc-router")


def job_name(routes: RouteFile, route: Route) -> str:
    return f"cdc.{routes.source.name}.{route.route_name}"


def source_dataset(routes: RouteFile, route: Route) -> InputDataset:
    """OpenLineage's naming for PostgreSQL: ``postgres://host:port`` and ``database.schema.table``."""
    conn = routes.source.connection()
    namespace = f"postgres://{conn.get('host') or 'localhost'}:{conn.get('port') or '5432'}"
    return InputDataset(namespace, f"{conn.get('dbname') or ''}.{route.table}")


def sink_dataset(sink_url: str, route: Route) -> OutputDataset:
    from oml.runtime.lineage import table_namespace

    return OutputDataset(table_namespace(sink_url), route.target_table)


def batch_events(
    routes: RouteFile,
    route: Route,
    sink_url: str,
    decisions: Sequence[Decision],
    *,
    started: datetime,
    ended: datetime | None = None,
    failure: str | None = None,
    run_id: str | None = None,
) -> list[RunEvent]:
    """START and COMPLETE of one batch's run (FAIL with ``failure``); START alone when ``ended`` is None."""
    from residency_gate.lineage import residency_decision

    run = run_id or str(uuid.uuid4())
    job = Job(namespace=JOB_NAMESPACE, name=job_name(routes, route))
    inputs = [source_dataset(routes, route)]
    outputs = [sink_dataset(sink_url, route)]
    facets: dict[str, RunFacet] = {}
    if decisions:  # the facet needs one decision at least (a batch the gate never answered has none)
        facets[RESIDENCY_FACET] = SpineResidencyRunFacet(
            decisions=[residency_decision(d) for d in decisions], producer=PRODUCER
        )

    def event(state: RunState, when: datetime, extra: dict[str, RunFacet] | None = None) -> RunEvent:
        return RunEvent(
            eventType=state,
            eventTime=when.astimezone(UTC).isoformat(),
            run=Run(runId=run, facets={**facets, **(extra or {})}),
            job=job,
            producer=PRODUCER,
            inputs=inputs,
            outputs=outputs,
        )

    out = [event(RunState.START, started)]
    if ended is not None:
        if failure is None:
            out.append(event(RunState.COMPLETE, ended))
        else:
            error = error_message_run.ErrorMessageRunFacet(
                message=failure, programmingLanguage="python", producer=PRODUCER
            )
            out.append(event(RunState.FAIL, ended, {"errorMessage": error}))
    return out


__all__ = ["PRODUCER", "batch_events", "job_name", "sink_dataset", "source_dataset"]
