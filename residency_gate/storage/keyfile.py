"""The checkpoint signing key: from configuration, else generated once and kept in ``$SPINE_HOME`` (0600)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from residency_gate.audit import generate_private_key_pem, public_key_pem

logger = logging.getLogger(__name__)


def load_signing_key(configured: str | None, key_file: Path) -> bytes:
    """The configured PEM, else the key kept at ``key_file`` (created once, mode 0600)."""
    if configured:
        pem = configured.encode("utf-8")
    elif key_file.exists():
        pem = key_file.read_bytes()
    else:
        pem = generate_private_key_pem()
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
        logger.info("created the audit checkpoint signing key at %s", key_file)
    public_key_pem(pem)
    return pem


__all__ = ["load_signing_key"]
