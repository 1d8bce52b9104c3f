"""The CDC router: change topics -> decode -> one residency decision per batch -> redact -> SQL sink.

A consumer-group member reading every routed table's change topic. Per consumed batch it asks the gate
once (``evaluate_batch`` with one route per routed table in the batch; fail closed: an unreachable gate is
a deny). A denied route's records go to ``<topic>.dlq`` with the decision id; an allowed route's rows are
redacted with :mod:`spine.redaction`, then written with the consumed positions and a
``_spine_cdc_batches`` row in one sink transaction. On assignment it seeks to the positions stored in the
sink, so a crash neither loses nor duplicates. Undecodable records go to the DLQ (stage ``decode``);
transient sink errors are retried with backoff (tenacity) before the batch's records go to the DLQ
(stage ``sink``).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

import confluent_kafka
from confluent_kafka import Message, TopicPartition
from sqlalchemy.engine import Connection
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from cdc.lineage import batch_events
from cdc.plan import ChangeEvent, DecodeError, decode, plan
from cdc.registration import SchemaRegistrar, registry_client
from cdc.routes import Route, RouteFile
from cdc.sink import SqlSink
from lineage.emit import LineageEmitter, SpoolEmitter
from spine.errors import DatabaseUnavailableError, SpineError, UnavailableError
from spine.governed.dlq import DlqWriter, now_ms
from spine.kafka import Consumer, Producer
from spine.outbox import OutboxRelay
from spine.redaction import Redactor
from spine.registry_client import RegistryClient
from spine.settings import CdcSettings, KafkaSettings

if TYPE_CHECKING:
    from residency_gate.client import GateClient
    from residency_gate.evaluate import Decision

logger = logging.getLogger(__name__)

ORIGIN = "spine-cdc-router"


@dataclass
class RouterStats:
    batches: int = 0
    rows: int = 0
    dead_lettered: int = 0
    last_decisions: dict[str, str] = field(default_factory=dict)


def gate_route(routes: RouteFile, route: Route) -> Any:
    """The residency route of a CDC route: dataset -> sink, from the source's region, with field tags."""
    from residency_gate.evaluate import FieldTag
    from residency_gate.evaluate import Route as GateRoute

    return GateRoute(
        dataset=route.dataset,
        sink=route.sink,
        source_region=routes.source.region,
        purpose=route.purpose,
        fields=tuple(FieldTag(name, tags) for name, tags in route.fields.items()),
    )


class Router:
    def __init__(
        self,
        routes: RouteFile,
        cdc: CdcSettings,
        kafka: KafkaSettings,
        gate: GateClient,
        registry: RegistryClient | None = None,
        spool: SpoolEmitter | None = None,
    ) -> None:
        self.routes = routes
        self.cdc = cdc
        self.kafka = kafka
        self.gate = gate
        self.by_topic = {routes.topic(r): r for r in routes.routes}
        self.sinks = {name: SqlSink(name, s.url.get_secret_value()) for name, s in routes.sinks.items()}
        self.stats = RouterStats()
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._dlq: dict[str, DlqWriter] = {}
        self._tables: dict[str, Any] = {}
        self.last_poll: float | None = None
        self._owns_registry = registry is None and routes.registry is not None
        if registry is None:
            registry = registry_client(routes)
        self.registrar = SchemaRegistrar(routes, registry)
        self.stopped: dict[str, str] = {}  # route -> why it stopped (a breaking schema change)
        self.lineage = LineageEmitter.for_outbox(ORIGIN)
        self.spool = spool  # FAIL of a batch the sink could not take; None: logged only
        self._relays: dict[str, OutboxRelay] = {}

    def start(self) -> None:
        """Reach every sink (a sink that is down refuses the start), then join the group."""
        for name, sink in self.sinks.items():
            try:
                sink.start()
            except DatabaseUnavailableError as exc:
                raise UnavailableError(
                    f"sink {name} is unreachable at start: {exc}; nothing started"
                ) from exc
            stopped = sink.stopped_routes()
            self.stopped.update({r.route_name: stopped[r.route_name] for r in self.routes.routes
                                 if r.sink == name and r.route_name in stopped})  # fmt: skip
        self._producer = Producer(self.kafka, client_id=f"{ORIGIN}-dlq")
        for name, sink in self.sinks.items():  # ships the lineage each sink's batches queued
            relay = OutboxRelay(sink.engine, self.kafka, name=f"cdc-lineage-{name}",
                                topics=self.lineage.topic_specs())  # fmt: skip
            relay.start()
            self._relays[name] = relay
        self._dlq = {topic: DlqWriter(self._producer, topic, ORIGIN) for topic in self.by_topic}
        self._consumer = Consumer(self.kafka, self.cdc.group, client_id=ORIGIN)
        self._consumer.subscribe(list(self.by_topic), on_assign=self._on_assign)

    def _on_assign(self, consumer: confluent_kafka.Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            route = self.by_topic[tp.topic]
            stored = self.sinks[route.sink].stored_positions(route.route_name)
            tp.offset = stored.get((tp.topic, tp.partition), confluent_kafka.OFFSET_BEGINNING)
        consumer.assign(partitions)

    def run(self, idle_timeout_s: float | None = None) -> None:
        if self._consumer is None:
            self.start()
        assert self._consumer is not None
        while not self._stop.is_set():
            self.last_poll = time.monotonic()  # the heartbeat's proof that the loop is turning
            batch = self._consumer.consume(self.cdc.batch_size, timeout=0.2)
            if batch:
                self.process(batch)
                self._consumer.commit(batch, asynchronous=True)

    def process(self, batch: Sequence[Message]) -> None:
        by_route: dict[str, list[Message]] = defaultdict(list)
        for msg in batch:
            by_route[self.by_topic[msg.topic() or ""].route_name].append(msg)
        routes = [self.routes.route(name) for name in by_route]
        decisions = self.gate.evaluate_batch([gate_route(self.routes, r) for r in routes])
        for route, decision in zip(routes, decisions, strict=True):
            self._route_batch(route, decision, by_route[route.route_name])

    def _route_batch(self, route: Route, decision: Decision, messages: list[Message]) -> None:
        assert self._producer is not None
        started = datetime.now(UTC)
        self.stats.last_decisions[route.route_name] = decision.decision_id
        topic = self.routes.topic(route)
        positions = {(topic, m.partition() or 0): (m.offset() or 0) + 1 for m in messages}
        events: list[ChangeEvent] = []
        dead: list[tuple[Message, str, str, str]] = []  # message, reason, code, stage
        if route.route_name in self.stopped:
            self._recheck_stop(route)
        if not decision.allowed:
            reason = f"residency gate denied route {route.route_name}: {'; '.join(decision.reasons)}"
            dead = [(m, reason, "DENIED", "gate") for m in messages if m.value() is not None]
        else:
            for msg in messages:
                if msg.value() is None:
                    continue
                stopped = self.stopped.get(route.route_name)
                if stopped is not None:
                    dead.append((msg, stopped, "ROUTE_STOPPED", "schema"))
                    continue
                try:
                    event = decode(msg.value())
                except DecodeError as exc:
                    dead.append((msg, f"undecodable change event: {exc}", "UNDECODABLE", "decode"))
                    continue
                if event is None:
                    continue
                breaking = self.registrar.check(route, event)
                if breaking is not None:
                    self._stop_route(route, breaking.reason)
                    dead.append((msg, self.stopped[route.route_name], "SCHEMA_BREAKING", "schema"))
                    continue
                events.append(event)
        redactor = Redactor(decision.redactions) if decision.allowed else None
        actions = plan(route, events, redactor if redactor else None)
        sink = self.sinks[route.sink]
        table = None
        if any(e.after or e.before for e in events):
            sample = next(e.after or e.before for e in reversed(events) if (e.after or e.before))
            columns = next((e.columns for e in reversed(events) if e.columns), {})
            assert sample is not None
            mapped = {route.rename.get(k, k): v for k, v in sample.items()}
            table = self._with_retry(lambda: sink.table(route, columns, mapped))
        elif events:  # only truncates
            table = self._with_retry(lambda: sink.existing_table(route))
        source_ts = max((e.ts_ms for e in events), default=None)
        dead_total = len(dead)
        first_failure = now_ms()
        run_id = str(uuid.uuid4())
        try:
            self._with_retry(
                lambda: self._flush_then_apply(
                    route, table, actions, positions, dead, decision, source_ts, started, run_id
                )
            )
        except DatabaseUnavailableError as exc:
            reason = f"sink {route.sink} failed after {self.cdc.sink_retries + 1} attempts: {exc}"
            self._emit_failure(route, decision, started, run_id, reason)
            extra = [(m, reason, "SINK_FAILED", "sink") for m in messages if m.value() is not None]
            self._dead_letter(route, decision, extra, attempts=self.cdc.sink_retries + 1, first=first_failure)
            self._producer.flush()
            raise
        self.stats.batches += 1
        self.stats.dead_lettered += dead_total

    def _recheck_stop(self, route: Route) -> None:
        """Forget a stop that was cleared in the sink (``spine cdc resume``): read before each batch of a
        stopped route, so nothing committed after the resume is dead-lettered for the old stop."""
        if route.route_name not in self._with_retry(lambda: self.sinks[route.sink].stopped_routes()):
            logger.warning("route %s was resumed: its events go to the sink again", route.route_name)
            del self.stopped[route.route_name]
            self.registrar.forget(route)

    def _stop_route(self, route: Route, reason: str) -> None:
        """Stop ``route`` (durably, in its sink): its events from now on go to the DLQ, stage schema."""
        text = f"route {route.route_name} stopped: {reason}"
        logger.error("%s", text)
        self._with_retry(lambda: self.sinks[route.sink].stop_route(route.route_name, text, now_ms()))
        self.stopped[route.route_name] = text

    def _flush_then_apply(
        self,
        route: Route,
        table: Any,
        actions: Any,
        positions: Mapping[tuple[str, int], int],
        dead: list[tuple[Message, str, str, str]],
        decision: Decision,
        source_ts: int | None,
        started: datetime,
        run_id: str,
    ) -> None:
        assert self._producer is not None
        dead_count = len(dead)
        if dead:
            self._dead_letter(route, decision, dead)
            self._producer.flush()  # dead letters are durable before their positions are committed
            dead.clear()
        rows = self.sinks[route.sink].apply(
            route,
            table,
            actions,
            positions,
            dead_lettered=dead_count,
            decision_ids=[decision.decision_id],
            source_ts_ms=source_ts,
            in_transaction=lambda conn: self._queue_lineage(conn, route, decision, started, run_id),
        )
        self.stats.rows += rows
        self._relays[route.sink].wake()

    def _queue_lineage(
        self, conn: Connection, route: Route, decision: Decision, started: datetime, run_id: str
    ) -> None:
        """START and COMPLETE (FAIL when the gate denied: nothing moved) of the batch's run, queued in
        the sink's outbox in the batch's transaction."""
        failure = None if decision.allowed else f"residency gate denied route {route.route_name}"
        url = self.routes.sinks[route.sink].url.get_secret_value()
        events = batch_events(
            self.routes, route, url, [decision], started=started, ended=datetime.now(UTC),
            failure=failure, run_id=run_id,
        )  # fmt: skip
        self.lineage.emit_in(conn, *events)

    def _emit_failure(
        self, route: Route, decision: Decision, started: datetime, run_id: str, reason: str
    ) -> None:
        """FAIL of a batch the sink could not take, through the local spool (the sink is down)."""
        url = self.routes.sinks[route.sink].url.get_secret_value()
        events = batch_events(
            self.routes, route, url, [decision], started=started, ended=datetime.now(UTC),
            failure=reason, run_id=run_id,
        )  # fmt: skip
        if self.spool is None:
            logger.warning("no lineage spool: FAIL of run %s not emitted (%s)", run_id, reason)
            return
        self.spool.emit(*events)

    def _dead_letter(
        self,
        route: Route,
        decision: Decision,
        dead: Sequence[tuple[Message, str, str, str]],
        *,
        attempts: int = 1,
        first: int | None = None,
    ) -> None:
        for msg, reason, code, stage in dead:
            self._dlq[msg.topic() or ""].send(
                msg.value(),
                msg.key(),
                reason=reason,
                error_code=code,
                stage=stage,
                headers=msg.headers(),
                attempts=attempts,
                first_failure_ms=first,
                partition=msg.partition(),
                offset=msg.offset(),
                route=route.route_name,
                decision_id=decision.decision_id,
            )

    def _with_retry(self, fn: Any) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.cdc.sink_retries + 1),
            wait=wait_exponential(multiplier=0.1, max=5.0),
            retry=retry_if_exception_type(DatabaseUnavailableError),
            reraise=True,
        )
        return retrying(fn)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        for relay in self._relays.values():
            relay.stop()
        if self.spool is not None:
            self.spool.close()
        if self._consumer is not None:
            self._consumer.close()
        if self._producer is not None:
            self._producer.close()
        for sink in self.sinks.values():
            sink.close()
        if self._owns_registry and self.registrar.client is not None:
            self.registrar.client.close()


def main(argv: list[str] | None = None) -> int:
    from cdc.health import router_probe
    from cdc.worker import worker_setup
    from residency_gate.client import GateClient
    from spine.runtime.heartbeat import Heartbeat

    try:
        setup = worker_setup("python -m cdc.router", __doc__, argv)
        spine, cdc, kafka, routes = setup.spine, setup.cdc, setup.kafka, setup.routes
        url = cdc.residency_url or f"http://127.0.0.1:{spine.port('residency-gate')}"
        gate = GateClient(url, os.environ.get("SPINE_TOKEN"), timeout=cdc.gate_timeout)
        router = Router(routes, cdc, kafka, gate)
        router.spool = LineageEmitter.for_spool(spine.home, ORIGIN, kafka)
        try:
            router.start()
        except SpineError:
            router.close()  # nothing half-started: relays, spool and sinks closed again
            raise
    except SpineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        router.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    beat = Heartbeat(setup.heartbeat, router_probe(router)).start() if setup.heartbeat else None
    try:
        router.run()
    except SpineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    finally:
        if beat is not None:
            beat.stop()
        router.close()
        gate.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["Router", "RouterStats", "gate_route", "main"]
