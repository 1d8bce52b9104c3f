"""Verifying an audit log against signed checkpoints, naming the first bad record.

Checks, in order: every checkpoint's signature; the hash chain (contiguous ``seq`` from 0, each ``hash``
recomputed, each ``prev_hash`` linking to the record before); that the RFC 6962 root of each checkpoint's
prefix equals the signed root, smallest checkpoint first, and that no checkpoint covers more records than the
log holds; that every published checkpoint is among the log's own; and that a signed checkpoint covers every
record.

The first bad record is the first one no matching checkpoint covers. A consistent forgery (a record deleted,
the rest renumbered and re-hashed) cannot be located more precisely than the checkpoints allow, so the prefix
checks run before the size check: a deletion is named where it happened (or at the last checkpoint before
it), not at the end where the log comes up short. With a checkpoint per N records the answer is within N.

Checkpoints come from two places that an attacker must both rewrite: the log's own (its checkpoints table or
file) and, optionally, those the gate published to ``_spine.audit``. Both sets are checked against the
records; a published checkpoint missing from the log's own set means checkpoints were deleted.

Records after the newest checkpoint are an *unsigned tail*: chained, but nothing shows that records were not
cut from the end or rewritten there. That is a failure unless the caller allows it.
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
    published_checkpoints: int | None = None  # None: the published checkpoints were not checked

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "published_checkpoints": self.published_checkpoints,
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
    """Compare each checkpoint's signed root with its prefix, smallest first; ``checkpoints`` are sorted."""
    count = len(records)
    tree = MerkleAccumulator()
    verified = 0
    for checkpoint in checkpoints:
        size = checkpoint.tree_size
        if size > count:
            raise _BrokenError(
                verified,
                f"the log is truncated: it ends after {count} records but the checkpoint of "
                f"{checkpoint.time} covers {size}: {size - count} records are gone, at or after record "
                f"{verified} (the first record no matching checkpoint covers)",
            )
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


def _check_published(own: Sequence[Checkpoint], published: Sequence[Checkpoint]) -> None:
    kept = set(own)
    missing = sorted({c.tree_size for c in published if c not in kept})
    if missing:
        sizes = ", ".join(str(size) for size in missing[:10]) + (", …" if len(missing) > 10 else "")
        one = len(missing) == 1
        raise _BrokenError(
            None,
            f"{len(missing)} published checkpoint{'' if one else 's'} (tree_size {sizes}) "
            f"{'is' if one else 'are'} missing from the log's own checkpoints: "
            f"{'it was' if one else 'they were'} deleted",
        )


def _check_tail(count: int, covered: int) -> None:
    if count > covered:
        many = "records" if count - covered > 1 else "record"
        are = "are" if count - covered > 1 else "is"
        raise _BrokenError(
            covered,
            f"{count - covered} {many} (seq {covered}..{count - 1}) {are} not covered by a signed checkpoint",
        )


def verify_log(
    records: Sequence[Mapping[str, Any]],
    checkpoints: Sequence[Checkpoint],
    public_key_pem: bytes,
    *,
    published: Sequence[Checkpoint] | None = None,
    allow_unsigned_tail: bool = False,
) -> VerifyReport:
    """Verify ``records`` (in log order) against ``checkpoints`` signed with ``public_key_pem``'s key.

    ``published`` are the checkpoints read back from ``_spine.audit`` (None when they were not read); records
    after the newest checkpoint fail the check unless ``allow_unsigned_tail``.
    """
    merged = sorted(set(checkpoints) | set(published or ()), key=lambda c: (c.tree_size, c.time))
    covered = merged[-1].tree_size if merged else 0
    tail = max(0, len(records) - covered)
    published_count = None if published is None else len(set(published))
    try:
        for checkpoint in merged:
            problem = checkpoint_signature_problem(checkpoint, public_key_pem)
            if problem is not None:
                raise _BrokenError(
                    None, f"the checkpoint of {checkpoint.time} (tree_size {checkpoint.tree_size}) {problem}"
                )
        _check_chain(records)
        _check_checkpoints(records, merged)
        if published is not None:
            _check_published(checkpoints, published)
        if not allow_unsigned_tail:
            _check_tail(len(records), covered)
    except _BrokenError as broken:
        logger.warning("audit log does not verify: %s", broken.problem)
        return VerifyReport(
            False, len(records), len(merged), broken.seq, broken.problem, tail, published_count
        )
    return VerifyReport(True, len(records), len(merged), None, None, tail, published_count)


__all__ = ["VerifyReport", "verify_log"]
