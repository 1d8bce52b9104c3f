"""``GovernedProducer``: write validated records to a subject's governed topic in Confluent's wire format.

Bound to a registry subject, it writes the topic of the subject's latest version (a MAJOR publish moves it
to the next ``.v<N>`` from the next start), serializes with confluent-kafka's own serializers against the
spine's registry, and puts ``spine.schema_id``, ``spine.producer``, ``spine.residency`` and a trace id on
every record. An invalid record raises :class:`RecordInvalidError`, or with ``dlq=True`` goes to
``<topic>.dlq`` (its JSON as the value) and ``send`` returns None.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from spine.errors import UnavailableError
from spine.governed.codec import Encoder
from spine.governed.dlq import DlqWriter
from spine.governed.errors import NotGovernedError, RecordInvalidError
from spine.governed.lineage import GovernedRun
from spine.governed.topics import find_dataset
from spine.headers import PRODUCER, RESIDENCY, SCHEMA_ID, TRACE_ID, HeaderList, new_trace_id
from spine.kafka import Admin, DeliveryFuture, Producer
from spine.kafka.config import ConfigValue
from spine.registry_client import SUBJECT_NOT_FOUND, RegistryClient, RegistryClientError
from spine.settings import KafkaSettings
from spine.topics import dlq_topic

if TYPE_CHECKING:
    from residency_gate.client import GateClient

logger = logging.getLogger(__name__)


class GovernedProducer:
    """Produce records of one registered subject to its governed topic; ``close()`` flushes."""

    def __init__(
        self,
        subject: str,
        *,
        kafka: KafkaSettings,
        registry: RegistryClient,
        gate: GateClient,
        name: str = "spine-producer",
        dlq: bool = False,
        region: str | None = None,
        home: Path | None = None,
        overrides: Mapping[str, ConfigValue] | None = None,
        producer: Producer | None = None,
    ) -> None:
        """With ``home``, lineage events go to the spool under it; ``region`` defaults to the dataset home.

        ``producer`` sends through a producer the caller owns (say a ``TransactionalProducer`` that commits
        several subjects' records with a consumer's offsets); ``close`` leaves it open.
        """
        policy = gate.policy()
        if policy is None:
            raise UnavailableError(
                f"residency gate unreachable at {gate.url}: cannot tell if {subject} is governed"
            )
        self.dataset = find_dataset(policy, subject)
        try:
            self.version = registry.latest(subject)
        except RegistryClientError as exc:
            if exc.error_code == SUBJECT_NOT_FOUND:
                raise NotGovernedError(f"subject {subject} is not governed: it is not registered") from exc
            raise
        self.subject = subject
        self.topic = self.version.topic
        self.name = name
        _require_topics(kafka, [self.topic, *([dlq_topic(self.topic)] if dlq else [])], subject)
        self.encoder = Encoder(registry, self.version)
        self._owns_producer = producer is None
        self._producer = producer or Producer(kafka, client_id=name, overrides=overrides)
        self._dlq = DlqWriter(self._producer, self.topic, name) if dlq else None
        residency = region or self.dataset.home
        self._fixed: HeaderList = [
            (SCHEMA_ID, str(self.version.schema_id).encode()),
            (PRODUCER, name.encode()),
        ]
        if residency:
            self._fixed.append((RESIDENCY, residency.encode()))
        emitter = None
        if home is not None:
            from lineage.emit import LineageEmitter

            emitter = LineageEmitter.for_spool(home, "governed-producer", kafka)
        self._run = GovernedRun(
            emitter,
            component="governed-producer",
            job_name=f"produce.{name}.{self.topic}",
            bootstrap=kafka.bootstrap_or_raise(),
            topic=self.topic,
            version=self.version,
            reads=False,
        )
        self._run.start()
        self.dead_lettered = 0
        self._closed = False

    def send(
        self,
        record: Mapping[str, Any],
        key: bytes | str | None = None,
        *,
        headers: HeaderList | None = None,
        trace_id: str | None = None,
    ) -> DeliveryFuture | None:
        """Validate and queue one record; None when it was dead-lettered instead (``dlq=True``)."""
        try:
            value = self.encoder.encode(record, self.topic)
        except RecordInvalidError as exc:
            if self._dlq is None:
                raise
            self._dlq.send(
                json.dumps(record, default=str).encode(),
                key.encode() if isinstance(key, str) else key,
                reason=str(exc),
                error_code=exc.error_code,
                stage="validate",
                headers=headers,
            )
            self.dead_lettered += 1
            return None
        out = [*(headers or ()), *self._fixed, (TRACE_ID, (trace_id or new_trace_id()).encode())]
        return self._producer.send(self.topic, value, key, headers=out)

    def flush(self, timeout: float = 30.0) -> None:
        self._producer.flush(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._closed:
            return
        self._closed = True
        failed = True
        try:
            if self._owns_producer:
                self._producer.close(timeout)
            failed = False
        finally:
            self._run.finish(failed=failed)
            if self._run.emitter is not None:
                self._run.emitter.close(timeout=5.0)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _require_topics(kafka: KafkaSettings, topics: list[str], subject: str) -> None:
    existing = Admin(kafka, client_id="spine-governed").list_topics()
    for topic in topics:
        if topic not in existing:
            raise NotGovernedError(
                f"topic {topic} of subject {subject} does not exist: "
                f"create it with 'spine topic create {subject}'"
            )


__all__ = ["GovernedProducer"]
