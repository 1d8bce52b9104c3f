"""RFC 6962 Merkle tree hashing checked against the Certificate Transparency test vectors and by hand."""

from __future__ import annotations

import hashlib

import pytest

from residency_gate.audit import (
    EMPTY_ROOT,
    MerkleAccumulator,
    canonical_json,
    leaf_hash,
    merkle_root,
    node_hash,
)

# The eight leaf inputs and tree heads published with RFC 6962 implementations (certificate-transparency-go).
CT_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _ct_leaves() -> list[bytes]:
    return [_h(b"\x00" + data) for data in CT_INPUTS]


def test_empty_tree_root_is_sha256_of_the_empty_string() -> None:
    assert (
        merkle_root([])
        == EMPTY_ROOT
        == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_root_matches_the_certificate_transparency_vector(size: int) -> None:
    assert merkle_root(_ct_leaves()[:size]).hex() == CT_ROOTS[size - 1]


def test_three_leaf_tree_splits_two_then_one_by_hand() -> None:
    a, b, c = (_h(b"\x00" + x) for x in (b"a", b"b", b"c"))
    expected = _h(b"\x01" + _h(b"\x01" + a + b) + c)
    assert merkle_root([a, b, c]) == expected


def test_five_leaf_tree_splits_four_then_one_by_hand() -> None:
    leaves = [_h(b"\x00" + bytes([i])) for i in range(5)]
    left = _h(b"\x01" + _h(b"\x01" + leaves[0] + leaves[1]) + _h(b"\x01" + leaves[2] + leaves[3]))
    assert merkle_root(leaves) == _h(b"\x01" + left + leaves[4])


def test_leaf_hash_prefixes_zero_byte_to_canonical_json() -> None:
    record = {"b": 1, "a": "x"}
    assert leaf_hash(record) == _h(b'\x00{"a":"x","b":1}')
    assert canonical_json(record) == b'{"a":"x","b":1}'


def test_node_hash_prefixes_one_byte() -> None:
    assert node_hash(b"L", b"R") == _h(b"\x01LR")


def test_incremental_accumulator_agrees_with_recursive_definition_for_every_size() -> None:
    leaves = [_h(bytes([i])) for i in range(70)]
    tree = MerkleAccumulator()
    assert tree.root() == EMPTY_ROOT
    for size, leaf in enumerate(leaves, start=1):
        tree.append(leaf)
        assert tree.size == size
        assert tree.root() == merkle_root(leaves[:size])
