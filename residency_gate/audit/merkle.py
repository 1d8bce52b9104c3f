"""RFC 6962 Merkle tree hashing over audit records: leaf and node hashes, the tree head, incremental roots.

leaf = SHA-256(0x00 || canonical_json(record)); node = SHA-256(0x01 || left || right); the tree over n leaves
splits at the largest power of two below n (RFC 6962 section 2.1), and the empty tree hashes to SHA-256("").
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from residency_gate.audit.record import canonical_json

logger = logging.getLogger(__name__)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(record: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_json(record)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of ``leaves`` (already leaf-hashed), by RFC 6962's recursive definition."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


class MerkleAccumulator:
    """Appends leaves one at a time and gives the root of the tree so far in O(log n) space and time.

    It keeps the roots of the perfect subtrees that make up the tree (one per set bit of its size); the
    RFC 6962 root is those subtree roots folded from the right.
    """

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        self._size += 1
        self._stack.append(leaf)
        completed = self._size
        while completed % 2 == 0:
            right = self._stack.pop()
            self._stack[-1] = node_hash(self._stack[-1], right)
            completed //= 2

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1]
        for subtree in reversed(self._stack[:-1]):
            result = node_hash(subtree, result)
        return result


__all__ = ["EMPTY_ROOT", "MerkleAccumulator", "leaf_hash", "merkle_root", "node_hash"]
