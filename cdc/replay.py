"""Replay a CDC route's dead letters through the gate and the sink again, each landing once.

Uses the one replay loop (:func:`spine.governed.replay.replay_dead_letters`) and its ledger. The gate is
asked once for the route; while it still denies, every dead letter stays. An allowed dead letter is decoded,
redacted as the new decision says and applied to the sink; the sink's per-key LSN check makes a landing
idempotent, and the ledger makes sure a dead letter is claimed once however often replay runs. Each
landing is a run of the route's lineage job, queued in the sink's outbox in the landing's transaction (the
router's relay for that sink delivers it, as it does the batches').
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from confluent_kafka import Message
from sqlalchemy.engine import Connection

from cdc.lineage import batch_events
from cdc.plan import DecodeError, decode, plan
from cdc.registration import SchemaRegistrar
from cdc.router import gate_route
from cdc.routes import RouteFile
from cdc.sink import SqlSink
from lineage.emit import LineageEmitter
from spine.governed.dlq import ReplayLedger
from spine.governed.replay import ReplayResult, StillInvalidError, replay_dead_letters
from spine.redaction import Redactor
from spine.registry_client import RegistryClient
from spine.settings import KafkaSettings

if TYPE_CHECKING:
    from residency_gate.client import GateClient

REPLAY_ORIGIN = "spine-cdc-replay"


def replay_route(
    routes: RouteFile,
    name: str,
    kafka: KafkaSettings,
    gate: GateClient,
    ledger: ReplayLedger,
    *,
    only_offset: int | None = None,
    since_ms: int | None = None,
    registry: RegistryClient | None = None,
) -> ReplayResult:
    """``registry`` checks each record's schema as the router does (a breaking one stays a dead letter);
    a route stopped for its schema replays nothing until its stop is cleared."""
    route = routes.route(name)
    topic = routes.topic(route)
    [decision] = gate.evaluate_batch([gate_route(routes, route)])
    redactor = Redactor(decision.redactions) if decision.allowed else None
    sink_url = routes.sinks[route.sink].url.get_secret_value()
    sink = SqlSink(route.sink, sink_url)
    sink.start()
    emitter = LineageEmitter.for_outbox(REPLAY_ORIGIN)
    stopped = sink.stopped_routes().get(route.route_name)
    registrar = SchemaRegistrar(routes, registry)

    def prepare(msg: Message) -> Callable[[], None]:
        if only_offset is not None and msg.offset() != only_offset:
            raise StillInvalidError("not selected (--id)")
        if since_ms is not None and (msg.timestamp()[1] or 0) < since_ms:
            raise StillInvalidError("not selected (--since)")
        if not decision.allowed:
            raise StillInvalidError(f"still denied ({decision.decision_id}): {'; '.join(decision.reasons)}")
        try:
            event = decode(msg.value())
        except DecodeError as exc:
            raise StillInvalidError(f"still undecodable: {exc}") from exc
        if event is None:
            raise StillInvalidError("a tombstone carries no change")
        if stopped is not None:  # never land a row of a stopped route: its schema change was breaking
            raise StillInvalidError(f"still stopped: {stopped}")
        breaking = registrar.check(route, event)
        if breaking is not None:
            raise StillInvalidError(f"still breaking: {breaking.reason}")

        def land() -> None:
            started = datetime.now(UTC)
            actions = plan(route, [event], redactor if redactor else None)
            row = event.after or event.before
            table = None
            if row is not None:
                table = sink.table(route, event.columns, {route.rename.get(k, k): v for k, v in row.items()})
            else:
                table = sink.existing_table(route)

            def queue_lineage(conn: Connection) -> None:  # the landing is a run of the route's job
                events = batch_events(
                    routes, route, sink_url, [decision], started=started, ended=datetime.now(UTC)
                )
                emitter.emit_in(conn, *events)

            sink.apply(
                route, table, actions, {}, dead_lettered=0, decision_ids=[decision.decision_id],
                source_ts_ms=event.ts_ms, in_transaction=queue_lineage,
            )  # fmt: skip

        return land

    try:
        return replay_dead_letters(kafka, topic, ledger, prepare)
    finally:
        sink.close()


__all__ = ["replay_route"]
