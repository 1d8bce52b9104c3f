"""Record headers every governed record carries, and their (de)serialisation to Kafka header tuples."""

from __future__ import annotations

import uuid
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
_DLQ_PREFIX = "spine.dlq."

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


def dlq_headers(
    original: HeaderInput,
    *,
    reason: str,
    error_code: int | str,
    topic: str,
    partition: int | None,
    offset: int | None,
) -> HeaderList:
    """The headers of a dead letter: the record's own headers (previous DLQ headers replaced), then why it
    failed and where it came from. Its key and value go to the DLQ untouched."""
    kept: HeaderList = [(k, v) for k, v in _pairs(original) if not k.startswith(_DLQ_PREFIX)]
    kept += [
        (DLQ_REASON, reason.encode("utf-8", "backslashreplace")),
        (DLQ_ERROR_CODE, str(error_code).encode()),
        (DLQ_ORIGIN_TOPIC, topic.encode()),
    ]
    if partition is not None:
        kept.append((DLQ_ORIGIN_PARTITION, str(partition).encode()))
    if offset is not None:
        kept.append((DLQ_ORIGIN_OFFSET, str(offset).encode()))
    return kept


def new_trace_id() -> str:
    return uuid.uuid4().hex


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
    "DLQ_ERROR_CODE",
    "DLQ_ORIGIN_OFFSET",
    "DLQ_ORIGIN_PARTITION",
    "DLQ_ORIGIN_TOPIC",
    "DLQ_REASON",
    "PRODUCER",
    "RESIDENCY",
    "SCHEMA_ID",
    "TRACE_ID",
    "HeaderList",
    "SpineHeaders",
    "dlq_headers",
    "header_value",
    "new_trace_id",
]
