"""The tamper-evident audit log: sealed records in a hash chain, RFC 6962 Merkle checkpoints, verification.

Pure functions over records and keys; storing, publishing and scheduling checkpoints belong to the service.
"""

from residency_gate.audit.record import (
    GENESIS_HASH,
    canonical_json,
    decision_body,
    finding_body,
    format_time,
    policy_change_body,
    record_hash,
    seal,
)

__all__ = [
    "GENESIS_HASH",
    "canonical_json",
    "decision_body",
    "finding_body",
    "format_time",
    "policy_change_body",
    "record_hash",
    "seal",
]
