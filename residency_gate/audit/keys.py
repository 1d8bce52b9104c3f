"""Ed25519 keys for audit checkpoints: generate, load from PEM, export the public key, derive a key id."""

from __future__ import annotations

import hashlib
import logging

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from residency_gate.errors import AuditKeyError

logger = logging.getLogger(__name__)


def generate_private_key_pem() -> bytes:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(private_key_pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError(
            "the checkpoint signing key is not a readable unencrypted PEM private key"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditKeyError("the checkpoint signing key must be an Ed25519 key")
    return key


def load_public_key(public_key_pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(public_key_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise AuditKeyError("the checkpoint public key is not a readable PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditKeyError("the checkpoint public key must be an Ed25519 key")
    return key


def public_key_pem(private_key_pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo PEM of the private key's public half (what auditors are given)."""
    return (
        load_private_key(private_key_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def key_id(public_key_pem: bytes) -> str:
    """The first 16 hex digits of SHA-256 over the raw 32-byte Ed25519 public key."""
    raw = load_public_key(public_key_pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


__all__ = ["generate_private_key_pem", "key_id", "load_private_key", "load_public_key", "public_key_pem"]
