"""The gate's durable state: policies, the audit log, checkpoints, quarantine, outbox (SQL), and its key file.

Functions here take a Connection inside the caller's transaction; they decide nothing.
"""

from residency_gate.storage import audit_log, state
from residency_gate.storage.database import (
    DatabaseUnavailableError,
    Transaction,
    create_engine,
    default_database_url,
    migrate,
    ping,
)
from residency_gate.storage.keyfile import load_signing_key

__all__ = [
    "DatabaseUnavailableError",
    "Transaction",
    "audit_log",
    "create_engine",
    "default_database_url",
    "load_signing_key",
    "migrate",
    "ping",
    "state",
]
