"""Emit OpenLineage events to ``_spine.lineage`` without blocking the caller or losing an event.

A service writes each event into its own outbox, in the transaction of the change the event describes
(:meth:`LineageEmitter.emit_in`); a process without a database writes it into a local SQLite spool under
``$SPINE_HOME`` (:class:`SpoolEmitter`). The spine's one outbox relay ships both. Events are serialized by
the OpenLineage client's own serde and keyed by run id, so one run's events stay in order on one partition.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from openlineage.client.event_v2 import BaseEvent, DatasetEvent, JobEvent, RunEvent
from openlineage.client.serde import Serde
from sqlalchemy.engine import Connection

from spine import outbox
from spine.headers import PRODUCER
from spine.kafka import TopicSpec
from spine.outbox import OutboxRelay, Spool
from spine.settings import KafkaSettings
from spine.topics import LINEAGE

logger = logging.getLogger(__name__)

SPOOL_NAME: Final = "lineage"
CONTENT_TYPE: Final = ("content-type", "application/json")
# Lineage is consumed into the lineage service's store; a week covers any outage it should survive.
_RETENTION_MS: Final = str(7 * 24 * 3600 * 1000)


def lineage_topic_spec(topic: str = LINEAGE) -> TopicSpec:
    """How ``_spine.lineage`` is created: several partitions (order is per run, by key), plain deletion."""
    return TopicSpec(
        topic,
        partitions=4,
        config={"cleanup.policy": "delete", "retention.ms": _RETENTION_MS},
    )


def kafka_namespace(bootstrap: str) -> str:
    """The OpenLineage dataset namespace of a Kafka cluster: ``kafka://{host}:{port}`` of its first server."""
    first = bootstrap.split(",")[0].strip()
    return f"kafka://{first.split('://')[-1]}"


def event_key(event: BaseEvent) -> str:
    """The record key: the run id, or ``namespace/name`` for a dataset or job event (which have no run)."""
    if isinstance(event, RunEvent):
        return str(event.run.runId)
    if isinstance(event, DatasetEvent):
        return f"{event.dataset.namespace}/{event.dataset.name}"
    if isinstance(event, JobEvent):
        return f"{event.job.namespace}/{event.job.name}"
    raise TypeError(f"not an OpenLineage event: {type(event).__name__}")


def encode(event: BaseEvent) -> tuple[bytes, bytes]:
    """``(key, value)`` of the Kafka record for ``event``: the value is the client's JSON serialization."""
    return event_key(event).encode("utf-8"), Serde.to_json(event).encode("utf-8")


class LineageEmitter:
    """Queue events in a service's outbox, inside the caller's transaction."""

    def __init__(self, component: str, *, topic: str = LINEAGE) -> None:
        self.component = component
        self.topic = topic

    @classmethod
    def for_outbox(cls, component: str, *, topic: str = LINEAGE) -> LineageEmitter:
        return cls(component, topic=topic)

    @classmethod
    def for_spool(
        cls, home: Path, component: str, kafka: KafkaSettings | None = None, *, topic: str = LINEAGE
    ) -> SpoolEmitter:
        return SpoolEmitter(home, component, kafka, topic=topic)

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(PRODUCER, self.component), CONTENT_TYPE]

    def topic_specs(self) -> dict[str, TopicSpec]:
        """Give these to the relay that drains the outbox, so it creates the topic with its configs."""
        return {self.topic: lineage_topic_spec(self.topic)}

    def emit_in(self, conn: Connection, *events: BaseEvent) -> None:
        """Queue ``events`` in the outbox of ``conn``'s database; they are sent once the caller commits."""
        if events:
            outbox.enqueue_many(conn, self.topic, [encode(e) for e in events], headers=self.headers)


class SpoolEmitter:
    """Emit into a local durable spool; a relay thread (when Kafka is configured) ships it meanwhile.

    :meth:`emit` only writes a local SQLite file, so it never waits on the network and never fails because
    the broker is down. :meth:`close` drains what is left for up to its timeout; what it cannot send stays
    in the spool for the next process that drains it.
    """

    def __init__(
        self,
        home: Path,
        component: str,
        kafka: KafkaSettings | None = None,
        *,
        topic: str = LINEAGE,
        name: str = SPOOL_NAME,
    ) -> None:
        self._emitter = LineageEmitter(component, topic=topic)
        self._kafka = kafka if kafka is not None and kafka.bootstrap else None
        self.spool = Spool(home, name)
        self._relay: OutboxRelay | None = None
        if self._kafka is not None:
            self._relay = self.spool.relay(self._kafka, topics=self._emitter.topic_specs())
            self._relay.start()

    def emit(self, *events: BaseEvent) -> None:
        """Write ``events`` to the spool (one local commit) and nudge the relay."""
        if not events:
            return
        with self.spool.engine.begin() as conn:
            self._emitter.emit_in(conn, *events)
        if self._relay is not None:
            self._relay.wake()

    def pending(self) -> int:
        return self.spool.stats().pending

    def close(self, timeout: float = 10.0) -> int:
        """Stop the relay and drain the spool for up to ``timeout`` seconds; returns the events left."""
        try:
            if self._relay is not None:
                self._relay.stop(min(timeout, 5.0))
            left = self.pending()
            if self._kafka is not None and left:
                left = self.spool.drain(self._kafka, timeout=timeout, topics=self._emitter.topic_specs())
        finally:
            self.spool.close()
        if left:
            logger.warning("%d lineage event(s) stay in spool %s for the next drain", left, self.spool.path)
        return left


__all__ = [
    "SPOOL_NAME",
    "LineageEmitter",
    "SpoolEmitter",
    "encode",
    "event_key",
    "kafka_namespace",
    "lineage_topic_spec",
]
