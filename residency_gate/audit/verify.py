"""Verifying an audit log against signed checkpoints, naming the first bad record.

Checks, in order: every checkpoint's signature; the hash chain (contiguous ``seq`` from 0, each ``hash``
recomputed, each ``prev_hash`` linking to the record before); that no checkpoint covers more records than the
log holds (a truncated tail); and that the RFC 6962 root of each checkpoint's prefix equals the signed root (a
chain rewritten and re-hashed from some record on). Records after the last checkpoint are reported as an
unverified tail, which is not a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from residency_gate.audit.checkpoint import Checkpoint, checkpoint_signature_problem
from residency_gate.audit.merkle import MerkleAccumulator, leaf_hash
from residency_gate.audit.record import GENESIS_HASH, record_hash

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    records: int
    checkpoints: int
    first_bad_seq: int | None
    problem: str | None
    unverified_tail: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "unverified_tail": self.unverified_tail,
        }


class _BrokenError(Exception):
    def __init__(self, seq: int | None, problem: str) -> None:
        self.seq = seq
        self.problem = problem


def _check_shape(position: int, record: Any) -> None:
    if not isinstance(record, Mapping):
        raise _BrokenError(position, f"the entry at position {position} is not a record object")
    seq = record.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise _BrokenError(position, f"the record at position {position} has no integer seq")
    for key in ("prev_hash", "hash"):
        if not isinstance(record.get(key), str):
            raise _BrokenError(position, f"record {seq} has no {key}")


def _check_chain(records: Sequence[Mapping[str, Any]]) -> None:
    present = {r.get("seq") for r in records if isinstance(r, Mapping)}
    previous = GENESIS_HASH
    for position, record in enumerate(records):
        _check_shape(position, record)
        seq = record["seq"]
        if seq != position:
            if seq < position or position in present:
                raise _BrokenError(
                    position, f"records are out of order: position {position} holds record {seq}"
                )
            after = f"record {position - 1} is followed by" if position else "the log starts at"
            raise _BrokenError(position, f"record {position} is missing: {after} record {seq}")
        if record_hash(record) != record["hash"]:
            raise _BrokenError(seq, f"record {seq} was altered: its hash does not match its content")
        if record["prev_hash"] != previous:
            before = f"the hash of record {seq - 1}" if seq else "the genesis hash"
            raise _BrokenError(seq, f"record {seq} does not link to the chain: its prev_hash is not {before}")
        previous = record["hash"]


def _check_checkpoints(records: Sequence[Mapping[str, Any]], checkpoints: Sequence[Checkpoint]) -> None:
    count = len(records)
    if checkpoints and checkpoints[-1].tree_size > count:
        last = checkpoints[-1]
        raise _BrokenError(
            count,
            f"the log is truncated: it ends after {count} records but the checkpoint of {last.time} covers "
            f"{last.tree_size} (records {count}..{last.tree_size - 1} are gone)",
        )
    tree = MerkleAccumulator()
    verified = 0
    for checkpoint in checkpoints:
        while tree.size < checkpoint.tree_size:
            tree.append(leaf_hash(records[tree.size]))
        if tree.root().hex() != checkpoint.root_hash:
            raise _BrokenError(
                verified,
                f"records {verified}..{checkpoint.tree_size - 1} do not match the checkpoint of "
                f"{checkpoint.time} (tree_size {checkpoint.tree_size}): "
                f"the log was rewritten at or after record {verified}",
            )
        verified = checkpoint.tree_size


def verify_log(
    records: Sequence[Mapping[str, Any]], checkpoints: Sequence[Checkpoint], public_key_pem: bytes
) -> VerifyReport:
    """Verify ``records`` (in log order) against ``checkpoints`` signed with ``public_key_pem``'s key."""
    ordered = sorted(checkpoints, key=lambda c: c.tree_size)
    covered = ordered[-1].tree_size if ordered else 0
    tail = max(0, len(records) - covered)
    try:
        for checkpoint in ordered:
            problem = checkpoint_signature_problem(checkpoint, public_key_pem)
            if problem is not None:
                raise _BrokenError(
                    None, f"the checkpoint of {checkpoint.time} (tree_size {checkpoint.tree_size}) {problem}"
                )
        _check_chain(records)
        _check_checkpoints(records, ordered)
    except _BrokenError as broken:
        logger.warning("audit log does not verify: %s", broken.problem)
        return VerifyReport(False, len(records), len(ordered), broken.seq, broken.problem, tail)
    return VerifyReport(True, len(records), len(ordered), None, None, tail)


__all__ = ["VerifyReport", "verify_log"]
