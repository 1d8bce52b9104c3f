"""Audit records: decision, policy-change, finding and declassification bodies, canonical JSON, sealing.

A sealed record is ``body + {"seq", "prev_hash", "hash"}`` where ``hash`` is the SHA-256 hex of the RFC 8785
canonical JSON of the record without ``hash``. Records carry field names and tags, never field values.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import rfc8785

from residency_gate.errors import AuditError
from residency_gate.evaluate import Decision
from residency_gate.policy.model import Policy
from residency_gate.wire import route_to_dict

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
CHAIN_KEYS = ("seq", "prev_hash", "hash")
FINDING_KINDS = frozenset({"finding", "quarantine", "release"})


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(key): _plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(item) for item in obj]
    return obj


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON bytes of ``obj``; raises ``AuditError`` for data JSON cannot hold."""
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError:
        try:
            return rfc8785.dumps(_plain(obj))
        except (rfc8785.CanonicalizationError, ValueError) as exc:
            raise AuditError(f"cannot canonicalise audit data: {exc}") from exc


def record_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of ``record`` without its ``hash`` key."""
    unsealed = {key: value for key, value in record.items() if key != "hash"}
    return hashlib.sha256(canonical_json(unsealed)).hexdigest()


def seal(body: Mapping[str, Any], *, seq: int, prev_hash: str) -> dict[str, Any]:
    """Append ``seq`` and ``prev_hash`` to ``body`` and compute its ``hash``: the next link of the chain."""
    clash = sorted(set(CHAIN_KEYS) & set(body))
    if clash:
        raise AuditError(f"a record body must not set {', '.join(clash)}")
    if seq < 0:
        raise AuditError(f"seq must be non-negative, not {seq}")
    if len(prev_hash) != 64:
        raise AuditError("prev_hash must be 64 hex characters")
    record = {**body, "seq": seq, "prev_hash": prev_hash}
    record["hash"] = record_hash(record)
    return record


def format_time(time: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z`` suffix; naive datetimes are refused."""
    if time.tzinfo is None:
        raise AuditError("audit times must be timezone-aware")
    return time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decision_body(decision: Decision, *, time: datetime) -> dict[str, Any]:
    route = decision.route
    return {
        "kind": "decision",
        "time": format_time(time),
        "decision_id": decision.decision_id,
        "route": route_to_dict(route),
        "dataset": route.dataset,
        "source_region": decision.source_region,
        "destination_region": decision.destination_region,
        "sink": route.sink,
        "purpose": route.purpose,
        "classification": decision.classification,
        "outcome": decision.outcome.value,
        "reasons": list(decision.reasons),
        "redactions": [
            {"field": r.field, "action": r.action, "tags": list(r.tags)} for r in decision.redactions
        ],
        "policy_version": decision.policy_version,
        "policy_hash": decision.policy_hash,
    }


def policy_change_body(
    policy: Policy, *, actor: str, time: datetime, previous_hash: str | None
) -> dict[str, Any]:
    """A new policy came into force; the record carries the whole document so reviewers can diff versions."""
    return {
        "kind": "policy_change",
        "time": format_time(time),
        "actor": actor,
        "policy_version": policy.version,
        "policy_hash": policy.hash,
        "previous_policy_hash": previous_hash,
        "policy": _plain(policy.document),
    }


def finding_body(kind: str, subject: str, detail: str, *, time: datetime) -> dict[str, Any]:
    """A scan finding, a quarantine or a release of ``subject`` (a topic or sink name)."""
    if kind not in FINDING_KINDS:
        raise AuditError(f"finding kind must be one of {', '.join(sorted(FINDING_KINDS))}, not '{kind}'")
    return {"kind": kind, "time": format_time(time), "subject": subject, "detail": detail}


def declassification_body(
    *,
    subject: str,
    version: int,
    semver: str,
    schema_id: int | None,
    fields: Sequence[tuple[str, Sequence[str], str]],
    actor: str,
    time: datetime,
) -> dict[str, Any]:
    """A schema version that removes or weakens field tags, accepted for ``actor``: each (field, removed
    tags, the field's path in the new version). Names and tags only, never values."""
    return {
        "kind": "declassification",
        "time": format_time(time),
        "actor": actor,
        "subject": subject,
        "version": version,
        "semver": semver,
        "schema_id": schema_id,
        "fields": [
            {"field": field, "removed_tags": list(removed), "now": now} for field, removed, now in fields
        ],
    }


__all__ = [
    "GENESIS_HASH",
    "canonical_json",
    "decision_body",
    "declassification_body",
    "finding_body",
    "format_time",
    "policy_change_body",
    "record_hash",
    "seal",
]
