"""OpenLineage runs of the governed clients: a producer is a job writing its topic, a consumer one reading it.

Events go through :class:`lineage.emit.SpoolEmitter` (no database here); the residency decision reaches the
consumer's run as the gate's ``spine_residency`` facet, because the consumer evaluates with ``run=RunRef``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import DatasetFacet

from lineage.emit import SpineGovernanceDatasetFacet, SpoolEmitter, kafka_namespace, producer_uri
from lineage.emit.facets import GOVERNANCE_FACET
from spine.registry_client import SubjectVersion

JOB_NAMESPACE = "data-spine"


class GovernedRun:
    """One run of a governed client; :meth:`start` and :meth:`finish` emit its events (given an emitter)."""

    def __init__(
        self,
        emitter: SpoolEmitter | None,
        *,
        component: str,
        job_name: str,
        bootstrap: str,
        topic: str,
        version: SubjectVersion,
        reads: bool,
    ) -> None:
        self.emitter = emitter
        self.run_id = str(uuid.uuid4())
        self.job_name = job_name
        self._producer = producer_uri(component)
        self._namespace = kafka_namespace(bootstrap)
        self._topic = topic
        self._version = version
        self._reads = reads

    def start(self) -> None:
        self._emit(RunState.START)

    def finish(self, failed: bool = False) -> None:
        self._emit(RunState.FAIL if failed else RunState.COMPLETE)

    def _emit(self, state: RunState) -> None:
        if self.emitter is None:
            return
        facet = SpineGovernanceDatasetFacet(
            subject=self._version.subject,
            schema_id=self._version.schema_id,
            semver=self._version.semver,
            governed_topic=self._version.topic,
            version=self._version.version,
            schema_type=self._version.schema_type,
            producer=self._producer,
        )
        facets: dict[str, DatasetFacet] = {GOVERNANCE_FACET: facet}
        inputs = [InputDataset(self._namespace, self._topic, facets=facets)] if self._reads else []
        outputs = [] if self._reads else [OutputDataset(self._namespace, self._topic, facets=facets)]
        self.emitter.emit(
            RunEvent(
                eventType=state,
                eventTime=datetime.now(UTC).isoformat(),
                run=Run(runId=self.run_id),
                job=Job(namespace=JOB_NAMESPACE, name=self.job_name),
                producer=self._producer,
                inputs=inputs,
                outputs=outputs,
            )
        )


__all__ = ["JOB_NAMESPACE", "GovernedRun"]
