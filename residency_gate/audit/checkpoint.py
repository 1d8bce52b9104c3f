"""Signed checkpoints: an Ed25519 signature over the RFC 6962 root of the first ``tree_size`` audit records.

The signed message is the RFC 8785 canonical JSON of ``{"key_id", "root_hash", "time", "tree_size"}``; the
signature is base64 (standard alphabet, padded). Checkpoints are kept apart from the log they cover, and
each one is also published to ``_spine.audit`` as :func:`checkpoint_message` (key
``checkpoint:<key_id>:<tree_size>``, value the checkpoint plus ``"kind": "checkpoint"``), next to the records.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature

from residency_gate.audit.keys import key_id, load_private_key, load_public_key, public_key_pem
from residency_gate.audit.merkle import leaf_hash, merkle_root
from residency_gate.audit.record import canonical_json, format_time
from residency_gate.errors import AuditError

logger = logging.getLogger(__name__)

CHECKPOINT_KEYS = frozenset({"tree_size", "root_hash", "time", "key_id", "signature"})
CHECKPOINT_KIND = "checkpoint"  # the ``kind`` of a checkpoint on _spine.audit; no audit record has it


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: str
    time: str
    key_id: str
    signature: str

    def signed_payload(self) -> bytes:
        return canonical_json(
            {
                "tree_size": self.tree_size,
                "root_hash": self.root_hash,
                "time": self.time,
                "key_id": self.key_id,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "time": self.time,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        if not isinstance(data, Mapping) or set(data) != CHECKPOINT_KEYS:
            raise AuditError(f"a checkpoint must have exactly the keys {', '.join(sorted(CHECKPOINT_KEYS))}")
        size = data["tree_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise AuditError("checkpoint tree_size must be a non-negative integer")
        for name in ("root_hash", "time", "key_id", "signature"):
            if not isinstance(data[name], str):
                raise AuditError(f"checkpoint {name} must be a string")
        return cls(size, data["root_hash"], data["time"], data["key_id"], data["signature"])


def checkpoint_message(checkpoint: Checkpoint) -> tuple[str, str]:
    """The (key, value) a checkpoint is published under on ``_spine.audit``."""
    key = f"{CHECKPOINT_KIND}:{checkpoint.key_id}:{checkpoint.tree_size}"
    value = canonical_json({"kind": CHECKPOINT_KIND, **checkpoint.to_dict()}).decode("utf-8")
    return key, value


def checkpoint_from_message(value: bytes | None) -> Checkpoint | None:
    """The checkpoint a ``_spine.audit`` message carries, or None for a record (or anything else).

    A message that says it is a checkpoint but is not a well-formed one raises ``AuditError``: someone
    wrote it to the audit topic, and a verifier must not quietly skip it.
    """
    try:
        data = json.loads(value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("kind") != CHECKPOINT_KIND:
        return None
    return Checkpoint.from_dict({k: v for k, v in data.items() if k != "kind"})


def sign_root(tree_size: int, root: bytes, private_key_pem: bytes, *, time: datetime) -> Checkpoint:
    """Sign an already computed root (the service keeps a running :class:`MerkleAccumulator`)."""
    key = load_private_key(private_key_pem)
    unsigned = Checkpoint(
        tree_size, root.hex(), format_time(time), key_id(public_key_pem(private_key_pem)), ""
    )
    signature = base64.b64encode(key.sign(unsigned.signed_payload())).decode("ascii")
    return Checkpoint(unsigned.tree_size, unsigned.root_hash, unsigned.time, unsigned.key_id, signature)


def sign_checkpoint(
    records: Sequence[Mapping[str, Any]], private_key_pem: bytes, *, time: datetime
) -> Checkpoint:
    """A signed checkpoint over all of ``records``."""
    root = merkle_root([leaf_hash(record) for record in records])
    return sign_root(len(records), root, private_key_pem, time=time)


def checkpoint_signature_problem(checkpoint: Checkpoint, public_key_pem_bytes: bytes) -> str | None:
    """Why the checkpoint's signature does not verify under this key, or None when it does."""
    expected_id = key_id(public_key_pem_bytes)
    if checkpoint.key_id != expected_id:
        return f"was signed by key {checkpoint.key_id}, not by the given key {expected_id}"
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except (binascii.Error, ValueError):
        return "has a signature that is not base64"
    try:
        load_public_key(public_key_pem_bytes).verify(signature, checkpoint.signed_payload())
    except InvalidSignature:
        return "has a signature that does not verify"
    return None


__all__ = [
    "CHECKPOINT_KIND",
    "Checkpoint",
    "checkpoint_from_message",
    "checkpoint_message",
    "checkpoint_signature_problem",
    "sign_checkpoint",
    "sign_root",
]
