"""``GovernedConsumer``: read a dataset's governed topic only as far as the residency gate allows.

Before subscribing it asks the gate (fail closed) about the route dataset -> sink (in the consumer's
region) for its purpose, naming the dataset's subject version so the gate reads the registry's tags: a deny
raises :class:`AccessDenied` and reads nothing; redactions are applied to every record before the handler
sees it. Every ``recheck_s`` it reads the policy version; when it changed (or cannot be read) the route is
evaluated again and a denial stops consumption. Records are decoded through the registry (any version of
the subject); an undecodable one, or one the handler keeps failing on (``retries`` with backoff), goes to
``<topic>.dlq`` and consumption continues. Offsets are committed after the handler returns (at least once).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from confluent_kafka import Message

from spine.errors import UnavailableError
from spine.governed.codec import Decoder
from spine.governed.dlq import DlqWriter, now_ms
from spine.governed.errors import AccessDenied, NotGovernedError, UndecodableRecordError
from spine.governed.lineage import JOB_NAMESPACE, GovernedRun
from spine.governed.topics import subject_base
from spine.headers import HeaderInput, SpineHeaders
from spine.kafka import Consumer, Producer, TransactionalProducer
from spine.kafka.config import ConfigValue
from spine.kafka.consumer import next_offsets
from spine.redaction import Redactor
from spine.registry_client import SubjectVersion
from spine.settings import KafkaSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from residency_gate.client import GateClient
    from residency_gate.evaluate import Decision
    from spine.registry_client import RegistryClient

logger = logging.getLogger(__name__)
# How long a member may wait for its first assignment before idle time counts (joining a group whose
# killed member has not expired yet takes up to a session timeout and a rebalance).
JOIN_GRACE_S = 60.0


class GovernedRecord:
    """A decoded, redacted record as the handler receives it (its headers are parsed when first read)."""

    __slots__ = ("_headers", "_message", "schema_id", "value")

    def __init__(self, value: dict[str, Any], schema_id: int, message: Message) -> None:
        self.value = value
        self.schema_id = schema_id
        self._message = message
        self._headers: SpineHeaders | None = None

    @property
    def key(self) -> bytes | None:
        key = self._message.key()
        return key.encode() if isinstance(key, str) else key

    @property
    def topic(self) -> str:
        return self._message.topic() or ""

    @property
    def partition(self) -> int:
        return self._message.partition() or 0

    @property
    def offset(self) -> int:
        return self._message.offset() or 0

    @property
    def raw_value(self) -> bytes | None:
        """The record's bytes as they are on the topic (what a dead letter keeps untouched)."""
        value = self._message.value()
        return value.encode() if isinstance(value, str) else value

    @property
    def kafka_headers(self) -> HeaderInput:
        """The record's headers as they are on the topic."""
        return self._message.headers()

    @property
    def timestamp_ms(self) -> int:
        """The record's Kafka timestamp (create or log-append time), in ms."""
        return int(self._message.timestamp()[1])

    @property
    def headers(self) -> SpineHeaders:
        if self._headers is None:
            self._headers = SpineHeaders.from_kafka(self._message.headers())
        return self._headers


Handler = Callable[[GovernedRecord], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A handler exception is retried ``retries`` times, waiting ``backoff_s`` (doubling, at most
    ``max_backoff_s``); then the record goes to the DLQ with stage ``handle`` and consumption continues."""

    retries: int = 3
    backoff_s: float = 0.1
    max_backoff_s: float = 2.0


@dataclass
class _Stats:
    delivered: int = 0
    dead_lettered: int = 0
    checks: int = 0
    decisions: list[str] = field(default_factory=list)


class GovernedConsumer:
    """A consumer-group member reading one dataset's governed topic through the residency gate."""

    def __init__(
        self,
        dataset: str,
        group: str,
        *,
        region: str,
        sink: str,
        purpose: str | None = None,
        kafka: KafkaSettings,
        registry: RegistryClient,
        gate: GateClient,
        major: int | None = None,
        recheck_s: float = 5.0,
        retry: RetryPolicy | None = None,
        name: str = "spine-consumer",
        home: Path | None = None,
        overrides: Mapping[str, ConfigValue] | None = None,
    ) -> None:
        self.dataset = dataset
        self.group = group
        self.region = region
        self.sink = sink
        self.purpose = purpose
        self.recheck_s = recheck_s
        self.retry = retry or RetryPolicy()
        self.name = name
        self._kafka = kafka
        self._registry = registry
        self._gate = gate
        self._major = major
        self._home = home
        self._overrides = overrides
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._run: GovernedRun | None = None
        self.stats = _Stats()
        self.version: SubjectVersion | None = None
        self.decision: Decision | None = None
        self._redactor = Redactor(())
        self._policy_version: str | None = None
        # When the group last handed this member its partitions: idle time counts from then, so a slow
        # join (a killed member's session must expire first) is not taken for an empty topic.
        self._assigned_at: float | None = None

    @property
    def topic(self) -> str:
        if self.version is None:
            raise RuntimeError("the consumer has not started")
        return self.version.topic

    def start(self) -> None:
        """Ask the gate, then subscribe; raises :class:`AccessDenied` (nothing read) or UnavailableError."""
        policy = self._gate.policy()
        if policy is None:
            raise UnavailableError(
                f"residency gate unreachable at {self._gate.url}: refusing to read {self.dataset}"
            )
        subject = _subject_of(policy, self.dataset)
        self.version = (
            self._registry.latest(subject)
            if self._major is None
            else self._registry.latest_in_major(subject, self._major)
        )
        emitter = None
        if self._home is not None:
            from lineage.emit import LineageEmitter

            emitter = LineageEmitter.for_spool(self._home, "governed-consumer", self._kafka)
        self._run = GovernedRun(
            emitter,
            component="governed-consumer",
            job_name=f"consume.{self.group}.{self.version.topic}",
            bootstrap=self._kafka.bootstrap_or_raise(),
            topic=self.version.topic,
            version=self.version,
            reads=True,
        )
        self._policy_version = str(policy["version"])
        self._check()
        self._run.start()
        self._decoder = Decoder(self._registry, subject)
        self._producer = Producer(self._kafka, client_id=f"{self.name}-dlq")
        self._dlq = DlqWriter(self._producer, self.version.topic, self.name)
        self._consumer = Consumer(self._kafka, self.group, client_id=self.name, overrides=self._overrides)
        self._consumer.subscribe([self.version.topic], on_assign=self._on_assign)
        self._next_check = time.monotonic() + self.recheck_s

    def _on_assign(self, _consumer: object, _partitions: object) -> None:
        self._assigned_at = time.monotonic()

    def _idle_for(self, since: float) -> float:
        """Seconds without records since ``since`` or the last assignment, whichever is later; before the
        first assignment, idle time starts only after a join grace period."""
        now = time.monotonic()
        if self._assigned_at is None:
            return now - since - JOIN_GRACE_S
        return now - max(since, self._assigned_at)

    def _check(self) -> None:
        from residency_gate.evaluate import Route, RunRef, SchemaRef

        assert self.version is not None
        assert self._run is not None
        route = Route(
            dataset=self.dataset,
            destination_region=self.region,
            sink=self.sink,
            purpose=self.purpose,
            schema=SchemaRef(self.version.subject, self.version.version),
        )
        run = RunRef(self._run.run_id, JOB_NAMESPACE, self._run.job_name)
        [decision] = self._gate.evaluate_batch([route], run=run)
        self.stats.checks += 1
        self.stats.decisions.append(decision.decision_id)
        self.decision = decision
        if not decision.allowed:
            raise AccessDenied(self.dataset, decision.reasons, decision.decision_id)
        self._redactor = Redactor(decision.redactions)

    def _recheck_if_due(self) -> None:
        if time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + self.recheck_s
        policy = self._gate.policy()
        version = None if policy is None else str(policy.get("version"))
        if version is not None and version == self._policy_version:
            return
        self._policy_version = version
        logger.info("policy of %s changed (now %s): checking the route again", self.dataset, version)
        self._check()

    def run(
        self,
        handler: Handler,
        *,
        max_records: int | None = None,
        idle_timeout_s: float | None = None,
        before_commit: Callable[[], None] | None = None,
        transaction: TransactionalProducer | None = None,
    ) -> int:
        """Deliver records until :meth:`stop`, ``max_records`` delivered, or ``idle_timeout_s`` without any.

        ``before_commit`` runs after each batch was handled and before its offsets are committed (a handler
        that buffers writes makes them durable there; if it raises, nothing of the batch is committed).
        With ``transaction``, each batch is one transaction of that producer: begun before the batch is
        handled, and the batch's offsets committed in it with what the handler sent through it (aborted
        when handling or ``before_commit`` raises). Dead letters stay outside it (at least once).
        Raises :class:`AccessDenied` when a re-check denies the route (what was handled is committed).
        """
        if self._consumer is None:
            self.start()
        assert self._consumer is not None
        delivered_before = self.stats.delivered
        idle_since = time.monotonic()
        failed = False
        try:
            while not self._stop.is_set():
                self._recheck_if_due()
                room = 500 if max_records is None else max_records - (self.stats.delivered - delivered_before)
                if room <= 0:
                    break
                batch = self._consumer.consume(min(room, 500), timeout=0.1)
                if not batch:
                    if idle_timeout_s is not None and self._idle_for(idle_since) > idle_timeout_s:
                        break
                    continue
                idle_since = time.monotonic()
                if transaction is None:
                    self._process(batch, handler, before_commit)
                    continue
                transaction.begin()
                try:
                    self._process(batch, handler, before_commit, transaction)
                except BaseException:
                    transaction.abort()
                    raise
        except BaseException:
            failed = True
            raise
        finally:
            if failed and self._run is not None:
                self._run.finish(failed=True)
                if self._run.emitter is not None:
                    self._run.emitter.close(timeout=5.0)  # the FAIL event leaves the spool now, not later
                self._run = None
        return self.stats.delivered - delivered_before

    def _process(
        self,
        batch: list[Message],
        handler: Handler,
        before_commit: Callable[[], None] | None = None,
        transaction: TransactionalProducer | None = None,
    ) -> None:
        assert self._consumer is not None
        dead = 0
        topic = self.topic
        redactor = self._redactor
        decode = self._decoder.decode
        for msg in batch:
            raw = msg.value()
            try:
                schema_id, value = decode(raw, topic)
            except UndecodableRecordError as exc:
                self._dead_letter(msg, str(exc), exc.error_code, "decode", 1, now_ms())
                dead += 1
                continue
            if redactor:
                value = redactor(value)
            if not self._handle(handler, GovernedRecord(value, schema_id, msg), msg):
                dead += 1
        if dead:
            assert self._producer is not None
            self._producer.flush()  # dead letters are durable before their offsets are committed
        if before_commit is not None:
            before_commit()
        if transaction is None:
            self._consumer.commit(batch)
        else:
            transaction.commit(next_offsets(batch), self._consumer.group_metadata())

    def _handle(self, handler: Handler, record: GovernedRecord, msg: Message) -> bool:
        first: int | None = None
        delay = self.retry.backoff_s
        for attempt in range(1, self.retry.retries + 2):
            try:
                handler(record)
            except Exception as exc:
                first = first or now_ms()
                if attempt > self.retry.retries:
                    reason = f"handler failed {attempt} times: {type(exc).__name__}: {exc}"
                    self._dead_letter(msg, reason, "HANDLER_FAILED", "handle", attempt, first)
                    return False
                logger.warning(
                    "handler failed on %s@%d (attempt %d): %s", record.topic, record.offset, attempt, exc
                )
                time.sleep(delay)
                delay = min(delay * 2, self.retry.max_backoff_s)
            else:
                self.stats.delivered += 1
                return True
        return False

    def _dead_letter(
        self, msg: Message, reason: str, code: str, stage: str, attempts: int, first: int
    ) -> None:
        self._dlq.send(
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
        )
        self.stats.dead_lettered += 1

    def stop(self) -> None:
        """Ask :meth:`run` to return after the batch in hand (safe from any thread)."""
        self._stop.set()

    def close(self) -> None:
        try:
            if self._consumer is not None:
                self._consumer.close()
            if self._producer is not None:
                self._producer.close()
        finally:
            if self._run is not None:
                self._run.finish()
                if self._run.emitter is not None:
                    self._run.emitter.close(timeout=5.0)
                self._run = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _subject_of(policy: Mapping[str, Any], dataset: str) -> str:
    document = policy.get("document")
    datasets = document.get("datasets") if isinstance(document, dict) else None
    entry = datasets.get(dataset) if isinstance(datasets, dict) else None
    if not isinstance(entry, dict):
        raise NotGovernedError(
            f"dataset {dataset} is not in the residency matrix (version {policy.get('version')})"
        )
    subject = entry.get("subject")
    return subject if isinstance(subject, str) else f"{subject_base(dataset)}-value"


__all__ = ["GovernedConsumer", "GovernedRecord", "Handler", "RetryPolicy"]
