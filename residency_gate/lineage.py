"""The gate's lineage: the decisions of a batch evaluated for a run, as a ``spine_residency`` run facet.

One OTHER event for the caller's run (the gate adds metadata to a run it neither starts nor ends), queued in
the outbox in the transaction that appends the decisions to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from sqlalchemy.engine import Connection

from lineage.emit import (
    RESIDENCY_FACET,
    LineageEmitter,
    RedactedField,
    ResidencyDecision,
    SpineResidencyRunFacet,
    producer_uri,
)
from residency_gate.evaluate import Decision, RunRef

PRODUCER = producer_uri("residency-gate")


def residency_decision(decision: Decision) -> ResidencyDecision:
    route = decision.route
    return ResidencyDecision(
        decision_id=decision.decision_id,
        outcome=decision.outcome.value,
        dataset=route.dataset,
        source_region=decision.source_region or route.source_region,
        destination_region=decision.destination_region or route.destination_region,
        sink=route.sink,
        redacted_fields=[RedactedField(r.field, r.action) for r in decision.redactions],
        policy_version=decision.policy_version,
        policy_hash=decision.policy_hash,
    )


def decisions_event(run: RunRef, decisions: Sequence[Decision], *, when: datetime) -> RunEvent:
    facet = SpineResidencyRunFacet(decisions=[residency_decision(d) for d in decisions], producer=PRODUCER)
    return RunEvent(
        eventType=RunState.OTHER,
        eventTime=when.isoformat(),
        run=Run(runId=run.run_id, facets={RESIDENCY_FACET: facet}),
        job=Job(namespace=run.job_namespace, name=run.job_name),
        producer=PRODUCER,
    )


class GateLineage:
    """Queue a run's decisions in the gate's outbox, inside the caller's transaction."""

    def __init__(self, emitter: LineageEmitter | None = None) -> None:
        self.emitter = emitter or LineageEmitter.for_outbox("residency-gate")

    def evaluated(self, conn: Connection, run: RunRef, decisions: Sequence[Decision], when: datetime) -> None:
        if decisions:
            self.emitter.emit_in(conn, decisions_event(run, decisions, when=when))


__all__ = ["PRODUCER", "GateLineage", "decisions_event", "residency_decision"]
