"""The gate's durable state in SQL: policies, the audit log, checkpoints, quarantined sinks and the outbox.

Functions here take a Connection inside the caller's transaction; they decide nothing.
"""

from residency_gate.storage import audit_log, state
from residency_gate.storage.database import (
    DatabaseUnavailableError,
    create_engine,
    default_database_url,
    migrate,
    ping,
)

__all__ = [
    "DatabaseUnavailableError",
    "audit_log",
    "create_engine",
    "default_database_url",
    "migrate",
    "ping",
    "state",
]
