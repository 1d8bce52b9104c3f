"""OpenLineage events of a pipeline run: START, RUNNING, COMPLETE or FAIL, with column lineage.

The job is ``pipeline.<name>`` in the spine's namespace; its input is the source's governed topic, its
outputs the topics and tables it writes, each with a ``columnLineage`` facet built from the manifest's
per-step column lineage. Events go to the local lineage spool (pipelines have no database).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import DatasetFacet, column_lineage_dataset

from lineage.emit import SpoolEmitter, kafka_namespace, producer_uri
from spine.governed.lineage import JOB_NAMESPACE

STATES = {"START": RunState.START, "RUNNING": RunState.RUNNING, "COMPLETE": RunState.COMPLETE,
          "FAIL": RunState.FAIL}  # fmt: skip


def table_namespace(url: str) -> str:
    """``postgresql://host:5432`` or ``sqlite://file`` of a database URL (never its credentials)."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite://{parsed.database or ':memory:'}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.get_backend_name()}://{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


class PipelineLineage:
    def __init__(
        self,
        emitter: SpoolEmitter | None,
        manifest: Mapping[str, Any],
        *,
        bootstrap: str,
        table_namespaces: Mapping[str, str],
    ) -> None:
        self.emitter = emitter
        self.run_id = str(uuid.uuid4())
        self.job_name = f"pipeline.{manifest['pipeline']['name']}"
        self._producer = producer_uri("oml-pipeline")
        kafka = kafka_namespace(bootstrap)
        steps = manifest["steps"]
        source = next(s for s in steps if s["mode"] == "read")
        self._inputs = [InputDataset(kafka, source["topic"])]
        dataset = source["config"]["dataset"]
        self._outputs = []
        for step in steps:
            if step["mode"] != "write":
                continue
            facet = _column_facet(step["columns"], dataset, kafka, source["topic"], self._producer)
            facets: dict[str, DatasetFacet] = {"columnLineage": facet}
            if step["component"] == "kafka.governed_sink":
                self._outputs.append(OutputDataset(kafka, step["topic"], facets=facets))
            else:
                namespace = table_namespaces[step["id"]]
                self._outputs.append(OutputDataset(namespace, step["config"]["table"], facets=facets))

    def emit(self, state: str) -> None:
        if self.emitter is None:
            return
        self.emitter.emit(
            RunEvent(
                eventType=STATES[state],
                eventTime=datetime.now(UTC).isoformat(),
                run=Run(runId=self.run_id),
                job=Job(namespace=JOB_NAMESPACE, name=self.job_name),
                producer=self._producer,
                inputs=self._inputs,
                outputs=self._outputs,
            )
        )


def _column_facet(
    columns: Mapping[str, list[str]], dataset: str, namespace: str, topic: str, producer: str
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    fields = {}
    for column, sources in columns.items():
        inputs = [
            column_lineage_dataset.InputField(namespace, topic, src.removeprefix(f"{dataset}."))
            for src in sources
        ]
        fields[column] = column_lineage_dataset.Fields(inputFields=inputs)
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, producer=producer)


__all__ = ["PipelineLineage", "table_namespace"]
