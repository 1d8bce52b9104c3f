"""Bearer tokens with roles, stored hashed: issue, persist and verify.

A token is 32 random bytes (url-safe text, prefixed ``spn_``); only its SHA-256 is stored, so the store
file can be read by every service without revealing a credential. ``admin`` may do anything; other
roles may do what their name says. Services reload the store when the file changes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from spine.errors import AuthError, ConfigError, ForbiddenError

TOKEN_PREFIX = "spn_"  # noqa: S105 - a label, not a secret


class Role(StrEnum):
    PRODUCER = "producer"
    CONSUMER = "consumer"
    SECURITY = "security"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role

    def has_any(self, roles: tuple[Role, ...]) -> bool:
        return self.role is Role.ADMIN or self.role in roles


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ConfigError(f"unknown role {text!r} (known: {known})") from None


class TokenStore:
    """Hashed tokens in a JSON file: ``{"tokens": [{"name", "role", "sha256", "created"}]}``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._by_hash: dict[str, Principal] = {}

    def issue(self, role: Role, name: str | None = None) -> str:
        """Create a token for ``role``, store its hash, and return the token (shown once)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            entries = self._read_entries()
            entries.append(
                {
                    "name": name or f"{role.value}-{len(entries) + 1}",
                    "role": role.value,
                    "sha256": hash_token(token),
                    "created": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"tokens": entries}, fh, indent=2)
            tmp.replace(self.path)
            self._mtime = None
        return token

    def authenticate(self, authorization: str | None) -> Principal:
        """Resolve an ``Authorization: Bearer ...`` header to a principal, or raise AuthError."""
        if not authorization:
            raise AuthError("missing bearer token: send 'Authorization: Bearer <token>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("malformed Authorization header: expected 'Bearer <token>'")
        digest = hash_token(token.strip())
        principals = self._principals()
        for known, principal in principals.items():
            if hmac.compare_digest(known, digest):
                return principal
        raise AuthError("invalid bearer token")

    def authorize(self, authorization: str | None, *roles: Role) -> Principal:
        principal = self.authenticate(authorization)
        if not principal.has_any(roles):
            wanted = " or ".join(r.value for r in roles)
            raise ForbiddenError(f"role {principal.role.value!r} may not do this; needs {wanted}")
        return principal

    def _principals(self) -> dict[str, Principal]:
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        with self._lock:
            if mtime != self._mtime:
                self._by_hash = {
                    e["sha256"]: Principal(name=e["name"], role=parse_role(e["role"]))
                    for e in self._read_entries()
                }
                self._mtime = mtime
            return self._by_hash

    def _read_entries(self) -> list[dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{self.path}: unreadable token store: {exc}") from exc
        entries = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise ConfigError(f"{self.path}: expected an object with a 'tokens' list")
        return entries


__all__ = ["TOKEN_PREFIX", "Principal", "Role", "TokenStore", "hash_token", "parse_role"]
