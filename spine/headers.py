"""Record headers every governed record carries, the dead-letter headers, and their Kafka header tuples.

Every DLQ writer (governed clients, CDC, pipelines) builds its headers with :class:`DlqHeaders`, so a
dead letter reads the same wherever it came from.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SCHEMA_ID = "spine.schema_id"
PRODUCER = "spine.producer"
RESIDENCY = "spine.residency"
TRACE_ID = "spine.trace_id"
# Dead-letter headers: why the record failed and where it came from.
DLQ_REASON = "spine.dlq.reason"
DLQ_ERROR_CODE = "spine.dlq.error_code"
DLQ_ORIGIN_TOPIC = "spine.dlq.origin_topic"
DLQ_ORIGIN_PARTITION = "spine.dlq.origin_partition"
DLQ_ORIGIN_OFFSET = "spine.dlq.origin_offset"
DLQ_ORIGIN = "spine.dlq.origin"  # the component that gave up on the record
DLQ_STAGE = "spine.dlq.stage"  # what it was doing: validate, decode, handle, sink, ...
DLQ_FIRST_FAILURE = "spine.dlq.first_failure_ms"
DLQ_LAST_FAILURE = "spine.dlq.last_failure_ms"
DLQ_ATTEMPTS = "spine.dlq.attempts"
DLQ_ROUTE = "spine.dlq.route"  # the CDC route (or pipeline step) the record was moving on
DLQ_DECISION_ID = "spine.dlq.decision_id"  # the residency decision that denied it

HeaderList = list[tuple[str, str | bytes | None]]

HeaderInput = Sequence[tuple[str, str | bytes | None]] | Mapping[str, str | bytes | None] | None


@dataclass(frozen=True, slots=True)
class SpineHeaders:
    """The spine's own headers of one record; unknown headers are left to the caller."""

    schema_id: int | None = None
    producer: str | None = None
    residency: str | None = None
    trace_id: str | None = None

    def to_kafka(self) -> HeaderList:
        out: HeaderList = []
        if self.schema_id is not None:
            out.append((SCHEMA_ID, str(self.schema_id).encode()))
        if self.producer is not None:
            out.append((PRODUCER, self.producer.encode()))
        if self.residency is not None:
            out.append((RESIDENCY, self.residency.encode()))
        out.append((TRACE_ID, (self.trace_id or new_trace_id()).encode()))
        return out

    @classmethod
    def from_kafka(cls, headers: HeaderInput) -> SpineHeaders:
        values = {k: _text(v) for k, v in _pairs(headers) if v is not None}
        schema_id = values.get(SCHEMA_ID)
        return cls(
            schema_id=int(schema_id) if schema_id and schema_id.isdigit() else None,
            producer=values.get(PRODUCER),
            residency=values.get(RESIDENCY),
            trace_id=values.get(TRACE_ID),
        )


@dataclass(frozen=True, slots=True)
class DlqHeaders:
    """Why a record is a dead letter and where it came from; times are epoch milliseconds."""

    reason: str
    error_code: str
    origin: str
    stage: str
    first_failure_ms: int
    last_failure_ms: int
    attempts: int = 1
    origin_topic: str | None = None
    origin_partition: int | None = None
    origin_offset: int | None = None
    route: str | None = None
    decision_id: str | None = None

    def to_kafka(self) -> HeaderList:
        out: HeaderList = [
            (DLQ_REASON, self.reason.encode("utf-8", "backslashreplace")),
            (DLQ_ERROR_CODE, self.error_code.encode()),
            (DLQ_ORIGIN, self.origin.encode()),
            (DLQ_STAGE, self.stage.encode()),
            (DLQ_FIRST_FAILURE, str(self.first_failure_ms).encode()),
            (DLQ_LAST_FAILURE, str(self.last_failure_ms).encode()),
            (DLQ_ATTEMPTS, str(self.attempts).encode()),
        ]
        if self.origin_topic is not None:
            out.append((DLQ_ORIGIN_TOPIC, self.origin_topic.encode()))
        if self.origin_partition is not None:
            out.append((DLQ_ORIGIN_PARTITION, str(self.origin_partition).encode()))
        if self.origin_offset is not None:
            out.append((DLQ_ORIGIN_OFFSET, str(self.origin_offset).encode()))
        if self.route is not None:
            out.append((DLQ_ROUTE, self.route.encode()))
        if self.decision_id is not None:
            out.append((DLQ_DECISION_ID, self.decision_id.encode()))
        return out

    @classmethod
    def from_kafka(cls, headers: HeaderInput) -> DlqHeaders | None:
        """The DLQ headers of a record, or None when it carries no ``spine.dlq.reason``."""
        values = {k: _text(v) for k, v in _pairs(headers) if v is not None}
        if DLQ_REASON not in values:
            return None
        return cls(
            reason=values[DLQ_REASON],
            error_code=values.get(DLQ_ERROR_CODE, ""),
            origin=values.get(DLQ_ORIGIN, ""),
            stage=values.get(DLQ_STAGE, ""),
            first_failure_ms=_int(values.get(DLQ_FIRST_FAILURE)) or 0,
            last_failure_ms=_int(values.get(DLQ_LAST_FAILURE)) or 0,
            attempts=_int(values.get(DLQ_ATTEMPTS)) or 1,
            origin_topic=values.get(DLQ_ORIGIN_TOPIC),
            origin_partition=_int(values.get(DLQ_ORIGIN_PARTITION)),
            origin_offset=_int(values.get(DLQ_ORIGIN_OFFSET)),
            route=values.get(DLQ_ROUTE),
            decision_id=values.get(DLQ_DECISION_ID),
        )

    def attach(self, original: HeaderInput) -> HeaderList:
        """The headers of the dead letter: the record's own (earlier DLQ headers replaced), then these."""
        return [*without_dlq_headers(original), *self.to_kafka()]


def without_dlq_headers(headers: HeaderInput) -> HeaderList:
    """The record's headers minus every ``spine.dlq.*`` one (what a replay sends on)."""
    return [(k, v) for k, v in _pairs(headers) if not k.startswith("spine.dlq.")]


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def new_trace_id() -> str:
    """32 random hex digits (as ``uuid4().hex``, at a third of its cost: it is made for every record)."""
    return os.urandom(16).hex()


def header_value(headers: HeaderInput, name: str) -> str | None:
    """The last value of header ``name`` as text, or None."""
    found: str | None = None
    for key, value in _pairs(headers):
        if key == name and value is not None:
            found = _text(value)
    return found


def _pairs(headers: HeaderInput) -> Iterable[tuple[str, str | bytes | None]]:
    if headers is None:
        return ()
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


__all__ = [
    "DLQ_ATTEMPTS",
    "DLQ_DECISION_ID",
    "DLQ_ERROR_CODE",
    "DLQ_FIRST_FAILURE",
    "DLQ_LAST_FAILURE",
    "DLQ_ORIGIN",
    "DLQ_ORIGIN_OFFSET",
    "DLQ_ORIGIN_PARTITION",
    "DLQ_ORIGIN_TOPIC",
    "DLQ_REASON",
    "DLQ_ROUTE",
    "DLQ_STAGE",
    "PRODUCER",
    "RESIDENCY",
    "SCHEMA_ID",
    "TRACE_ID",
    "DlqHeaders",
    "HeaderInput",
    "HeaderList",
    "SpineHeaders",
    "header_value",
    "new_trace_id",
    "without_dlq_headers",
]
