"""One outbox for every service: a table written in the caller's transaction and a relay to Kafka.

Owns the table shape, enqueueing, the relay thread (at-least-once, in order per key, survives a broker
restart), the local SQLite spool for processes without a database, and the outbox's metrics and
readiness. It knows nothing about what the records mean: callers hand it bytes.
"""

from spine.outbox.health import StatsSource, outbox_ready_check, register_outbox_metrics
from spine.outbox.relay import OutboxRelay, backoff_delay, settle
from spine.outbox.spool import Spool, spool_path
from spine.outbox.table import (
    OUTBOX,
    TABLE_NAME,
    Header,
    OutboxRow,
    OutboxStats,
    decode_headers,
    encode_headers,
    enqueue,
    enqueue_many,
    now_millis,
    outbox_table,
    pending,
    remove,
    stats,
)

__all__ = [
    "OUTBOX",
    "TABLE_NAME",
    "Header",
    "OutboxRelay",
    "OutboxRow",
    "OutboxStats",
    "Spool",
    "StatsSource",
    "backoff_delay",
    "decode_headers",
    "encode_headers",
    "enqueue",
    "enqueue_many",
    "now_millis",
    "outbox_ready_check",
    "outbox_table",
    "pending",
    "register_outbox_metrics",
    "remove",
    "settle",
    "spool_path",
    "stats",
]
