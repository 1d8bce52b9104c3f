"""Running a compiled pipeline: a consumer-group application on the source's governed topic.

The source is a :class:`spine.governed.GovernedConsumer` (the gate's check before reading, registry
decoding, the gate's redactions), further narrowed by the redactions the compile found for every route of
the source. Each batch goes through the :class:`~oml.runtime.topology.Topology`; then, before the batch's
offsets are committed, rejected records go to ``<source topic>.dlq`` (original key and value untouched,
:class:`spine.headers.DlqHeaders` naming the expectation), topic sinks wait for every delivery and table
sinks upsert in one transaction. So a crash redelivers at most the uncommitted batch: the table holds each
record once (upsert by key), the topic at least once. Run logs and OpenLineage events are written as it goes.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oml.compile import Compiled
from oml.runlog import RunLog
from oml.runtime.lineage import PipelineLineage, table_namespace
from oml.runtime.operators import Row
from oml.runtime.sinks import TableSink, TopicSink
from oml.runtime.state import Saved, StateStore, partition_key
from oml.runtime.topology import Topology
from oml.validate import Pipeline
from spine.governed import GovernedConsumer, GovernedProducer, GovernedRecord
from spine.governed.dlq import DlqWriter
from spine.kafka import Producer, TransactionalProducer
from spine.redaction import FieldRedaction, Redactor
from spine.settings import KafkaSettings

if TYPE_CHECKING:
    from residency_gate.client import GateClient
    from spine.registry_client import RegistryClient

logger = logging.getLogger(__name__)

Progress = Callable[[Mapping[str, Any]], None]
EXPECTATION_FAILED = "EXPECTATION_FAILED"
TOPIC_SINK = "kafka.governed_sink"


@dataclass
class Services:
    kafka: KafkaSettings
    registry: RegistryClient
    gate: GateClient


def sql_url(fields: Mapping[str, Any]) -> str:
    """The connection's URL, with its ``password`` field (if any) put in."""
    import sqlalchemy as sa

    url = str(fields["url"])
    if fields.get("password"):
        return (
            sa.engine.make_url(url)
            .set(password=str(fields["password"]))
            .render_as_string(hide_password=False)
        )
    return url


class PipelineRunner:
    def __init__(
        self,
        pipeline: Pipeline,
        compiled: Compiled,
        services: Services,
        *,
        home: Path,
        env: Mapping[str, str],
        run_id: str | None = None,
        lineage: bool = True,
    ) -> None:
        self.pipeline = pipeline
        self.manifest = compiled.manifest
        self.services = services
        self.home = home
        self.topology = Topology(self.manifest["steps"])
        self.log = RunLog(home, pipeline.name, compiled.text, run_id=run_id)
        self.run_id = self.log.run_id
        self._env = env
        self._consumer: GovernedConsumer | None = None
        self._stopping = False
        self._lineage_enabled = lineage
        self.dead_lettered = 0
        self.skipped = 0  # records a restored state already covered
        self.read = 0
        self._buffer: list[Row] = []
        self._started = time.monotonic()
        self.first_record_at: float | None = None  # monotonic time the first record arrived
        self._rejections: list[dict[str, Any]] = []

    def stop(self) -> None:
        """Ask the run to finish after the batch in hand (safe from a signal handler)."""
        self._stopping = True
        if self._consumer is not None:
            self._consumer.stop()

    def run(
        self,
        *,
        max_records: int | None = None,
        idle_timeout_s: float | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        log = self.log
        steps = {s["id"]: s for s in self.manifest["steps"]}
        source = steps[self.topology.source]
        cfg = source["config"]
        kafka = self.services.kafka
        log.status("starting", manifest_sha256=compiled_fingerprint(self.manifest))
        log.event(
            "run.start", pipeline=self.pipeline.name, manifest_sha256=compiled_fingerprint(self.manifest)
        )
        emitter = None
        if self._lineage_enabled:
            from lineage.emit import LineageEmitter

            emitter = LineageEmitter.for_spool(self.home, "oml-pipeline", kafka)
        table_urls = {
            s.id: sql_url(s.connection.values(self._env))
            for s in self.pipeline.steps
            if s.component == "sql.table_sink" and s.connection is not None
        }
        lineage = PipelineLineage(
            emitter,
            self.manifest,
            bootstrap=kafka.bootstrap_or_raise(),
            table_namespaces={k: table_namespace(v) for k, v in table_urls.items()},
        )
        log.status("starting", lineage_run_id=lineage.run_id)
        lineage.emit("START")
        sinks: dict[str, TopicSink | TableSink] = {}
        dlq_producer: Producer | None = None
        transaction: TransactionalProducer | None = None
        store: StateStore | None = None
        done: dict[str, int] = {}  # per partition, the offset after the last record a saved state covers
        failed: BaseException | None = None
        try:
            group = cfg.get("group") or f"oml.{self.pipeline.name}"
            self._consumer = GovernedConsumer(
                cfg["dataset"],
                group,
                region=cfg["region"],
                sink=cfg.get("sink") or "",
                purpose=cfg.get("purpose"),
                kafka=kafka,
                registry=self.services.registry,
                gate=self.services.gate,
                major=cfg.get("major"),
                name=f"oml-{self.pipeline.name}",
                home=self.home if self._lineage_enabled else None,
            )
            self._consumer.start()
            decision = self._consumer.decision
            log.event(
                "source.admitted",
                step=source["id"],
                topic=self._consumer.topic,
                decision_id=None if decision is None else decision.decision_id,
                redactions=dict(source.get("redactions", {})),
            )
            redactor = Redactor(FieldRedaction(f, a) for f, a in sorted(source.get("redactions", {}).items()))
            if any(s.config.get("exactly_once") for s in self.pipeline.steps if s.component == TOPIC_SINK):
                # One transaction per batch carries every exactly-once sink's records and the offsets;
                # its id is the group's, so a restarted process fences a killed one and aborts its batch.
                transaction = TransactionalProducer(kafka, f"{group}.sinks")
                log.event("run.transactional", transactional_id=transaction.transactional_id)
            for step in self.pipeline.steps:
                if step.component == TOPIC_SINK:
                    shared = transaction if step.config.get("exactly_once") else None
                    producer = GovernedProducer(
                        step.config["subject"],
                        kafka=kafka,
                        registry=self.services.registry,
                        gate=self.services.gate,
                        name=f"oml-{self.pipeline.name}-{step.id}",
                        region=step.config.get("region", cfg["region"]),
                        home=self.home if self._lineage_enabled else None,
                        producer=shared,
                    )
                    sinks[step.id] = TopicSink(producer, step.config.get("key"))
                elif step.component == "sql.table_sink":
                    columns = list(steps[step.id]["columns"])
                    sinks[step.id] = TableSink(
                        table_urls[step.id], step.config["table"], step.config["key"], columns,
                        setting=f"steps[{step.index}].config.connection",
                    )  # fmt: skip
            fingerprint = compiled_fingerprint(self.manifest)
            if self.topology.stateful:
                store = StateStore(self.home, group)
                saved = store.load()
                if saved is not None and saved.manifest_sha256 == fingerprint:
                    self.topology.restore(saved.state)
                    done.update(saved.offsets)
                    log.event("state.restored", offsets=saved.offsets, steps=sorted(saved.state))
                elif saved is not None:
                    log.event("state.discarded", reason="the manifest changed since it was saved")
            covered = dict(done)  # per partition, the offset after the last record the state holds
            dlq_producer = Producer(kafka, client_id=f"oml-{self.pipeline.name}-dlq")
            dlq = DlqWriter(dlq_producer, self._consumer.topic, f"oml.{self.pipeline.name}")
            log.status("running")
            lineage.emit("RUNNING")
            log.event("run.running", group=group)

            def handle(record: GovernedRecord) -> None:
                if self.first_record_at is None:
                    self.first_record_at = time.monotonic()
                where = partition_key(record.topic, record.partition)
                if record.offset < done.get(where, -1):
                    self.skipped += 1  # already through the topology: outputs durable, effect in the state
                    return
                covered[where] = record.offset + 1
                value = redactor(record.value) if redactor else record.value
                self._buffer.append(Row(value, record.key, record.timestamp_ms, record))

            def before_commit() -> None:
                self._batch(self.topology.push(self._buffer), sinks, dlq, dlq_producer)
                self._buffer.clear()
                if store is not None:
                    store.save(Saved(fingerprint, covered, self.topology.state()))
                self._metrics(progress)

            assert self._consumer is not None
            self._consumer.run(
                handle,
                max_records=max_records,
                idle_timeout_s=idle_timeout_s,
                before_commit=before_commit,
                transaction=transaction,
            )
            if not self._stopping:
                # A bounded run ends here: open windows are closed and written (their offsets are committed).
                drained = self.topology.drain()
                if transaction is not None:
                    transaction.begin()
                try:
                    self._batch(drained, sinks, dlq, dlq_producer)
                    if store is not None:
                        store.save(Saved(fingerprint, covered, self.topology.state()))
                    if transaction is not None:
                        transaction.commit()
                except BaseException:
                    if transaction is not None:
                        transaction.abort()
                    raise
            self._metrics(progress)
        except BaseException as exc:
            failed = exc
            raise
        finally:
            for sink in sinks.values():
                try:
                    sink.close()
                except Exception as exc:  # a close failure must not hide the run's own error
                    logger.warning("closing a sink failed: %s", exc)
                    failed = failed or exc
            if dlq_producer is not None:
                dlq_producer.close()
            if transaction is not None:
                transaction.close()  # aborts a transaction a failure left open
            if store is not None:
                store.close()
            self._write_artifacts(sinks)
            if self._consumer is not None:
                self._consumer.close()
            state = "failed" if failed is not None else ("stopped" if self._stopping else "completed")
            if failed is not None:
                log.event("run.fail", error=type(failed).__name__, message=str(failed))
            log.event(f"run.{'complete' if failed is None else 'end'}", state=state)
            log.status(state, read=self.read, dead_lettered=self.dead_lettered, skipped=self.skipped,
                       error=None if failed is None else str(failed))  # fmt: skip
            lineage.emit("FAIL" if failed is not None else "COMPLETE")
            if emitter is not None:
                emitter.close(timeout=5.0)
            log.close()
        return {
            "run_id": self.run_id,
            "state": state,
            "read": self.read,
            "dead_lettered": self.dead_lettered,
            "skipped": self.skipped,
        }

    def _batch(
        self, result: Any, sinks: Mapping[str, TopicSink | TableSink], dlq: DlqWriter, dlq_producer: Producer
    ) -> None:
        self.read += len(self._buffer)
        for rejection in result.rejections:
            record = rejection.row.origin
            if not isinstance(record, GovernedRecord):
                continue
            reason = (
                f"expectation {rejection.expectation} of step {rejection.step} failed: {rejection.reason}"
            )
            dlq.send(
                record.raw_value,
                record.key,
                reason=reason,
                error_code=EXPECTATION_FAILED,
                stage=f"expect:{rejection.step}:{rejection.expectation}",
                headers=record.kafka_headers,
                partition=record.partition,
                offset=record.offset,
            )
            self.dead_lettered += 1
        for step_id, rows in result.writes.items():
            sinks[step_id].write(rows)
        if result.rejections:
            dlq_producer.flush()
        for sink in sinks.values():
            sink.flush()

    def _write_artifacts(self, sinks: Mapping[str, TopicSink | TableSink]) -> None:
        """Per step: its counters; expectations also list each rejection (where it was, which check, why;
        no record values); sinks what they wrote."""
        for step_id, stats in self.topology.stats.items():
            folder = self.log.artifacts(step_id)
            body: dict[str, Any] = {
                "rows_in": stats.rows_in,
                "rows_out": stats.rows_out,
                "rows_rejected": stats.rejected,
                "seconds": round(stats.seconds, 6),
            }
            if step_id in sinks:
                body["rows_written"] = sinks[step_id].written
            (folder / "stats.json").write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
            mine = [r for r in self._rejections if r["step"] == step_id]
            if mine:
                lines = "".join(json.dumps(r, sort_keys=True) + "\n" for r in mine)
                (folder / "rejections.jsonl").write_text(lines)

    def _metrics(self, progress: Progress | None) -> None:
        elapsed = time.monotonic() - self._started
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        snapshot: dict[str, Any] = {"elapsed_s": elapsed, "dead_lettered": self.dead_lettered, "steps": {}}
        for step_id, stats in self.topology.stats.items():
            per_row = stats.seconds * 1e6 / stats.rows_in if stats.rows_in else 0.0
            self.log.metric(step_id, "rows_in", stats.rows_in)
            self.log.metric(step_id, "rows_out", stats.rows_out)
            self.log.metric(step_id, "rows_rejected", stats.rejected)
            self.log.metric(step_id, "execution_time_ms", stats.seconds * 1000)
            self.log.metric(step_id, "latency_us_per_row", per_row)
            snapshot["steps"][step_id] = {"rows_in": stats.rows_in, "rows_out": stats.rows_out,
                                          "rate": stats.rows_in / elapsed if elapsed else 0.0}  # fmt: skip
        self.log.metric(None, "memory_usage_mb", rss_mb)
        self.log.metric(None, "dead_lettered", self.dead_lettered)
        if progress is not None:
            progress(snapshot)


def compiled_fingerprint(manifest: Mapping[str, Any]) -> str:
    return str(manifest["fingerprints"]["manifest"])


__all__ = ["PipelineRunner", "Services", "sql_url"]
