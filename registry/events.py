"""Schema events: the Avro record (``schemas/schema_event.avsc``, schemaless) the registry publishes.

Events are encoded when they are queued in the outbox (``spine.outbox``), in the transaction of the change
they describe; keys are the subject, the topic ``_spine.schemas`` is compacted with one partition.
"""

from __future__ import annotations

import functools
import io
import json
from typing import Any

import fastavro

import schemas
from spine.kafka import TopicSpec
from spine.topics import SCHEMAS

EVENT_SCHEMA = "schema_event.avsc"


def events_topic_spec(topic: str = SCHEMAS) -> TopicSpec:
    """How the events topic is created: compacted (the newest event per subject is what counts), one
    partition so a reader sees every subject's history in order."""
    return TopicSpec(topic, partitions=1, config={"cleanup.policy": "compact"})


@functools.cache
def event_schema() -> Any:
    return fastavro.parse_schema(json.loads(schemas.read(EVENT_SCHEMA)))


def encode_event(schema: Any, payload: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, payload)
    return buffer.getvalue()


def decode_event(schema: Any, data: bytes) -> dict[str, Any]:
    record = fastavro.schemaless_reader(io.BytesIO(data), schema, schema)
    if not isinstance(record, dict):
        raise TypeError("a schema event decodes to a record")
    return record


__all__ = ["EVENT_SCHEMA", "decode_event", "encode_event", "event_schema", "events_topic_spec"]
