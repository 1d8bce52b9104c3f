"""The gate's checkpoints as published on ``_spine.audit``, read back for verification.

The topic is the copy of the checkpoints that lives outside the gate's database: whoever rewrites
``audit_records`` and empties ``checkpoints`` must also reach the broker. Other gates may share the topic,
so only checkpoints that name this gate's key are kept; a message that claims to be a checkpoint but is
malformed is an error, not something to skip.
"""

from __future__ import annotations

import logging

from residency_gate.audit import Checkpoint, checkpoint_from_message
from residency_gate.errors import AuditError
from spine.kafka import read_topic
from spine.settings import KafkaSettings
from spine.topics import AUDIT

logger = logging.getLogger(__name__)


def published_checkpoints(kafka: KafkaSettings, key_id: str, *, timeout: float = 15.0) -> list[Checkpoint]:
    """Every checkpoint signed by ``key_id`` on ``_spine.audit``, in topic order (duplicates kept once)."""
    found: dict[Checkpoint, None] = {}
    for message in read_topic(kafka, AUDIT, client_id="spine-audit-verify", timeout=timeout):
        try:
            checkpoint = checkpoint_from_message(message.value())
        except AuditError as exc:
            raise AuditError(f"{AUDIT} offset {message.offset()}: {exc}") from exc
        if checkpoint is not None and checkpoint.key_id == key_id:
            found[checkpoint] = None
    logger.debug("read %d published checkpoints of key %s from %s", len(found), key_id, AUDIT)
    return list(found)


__all__ = ["published_checkpoints"]
