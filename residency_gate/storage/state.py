"""Policy revisions and quarantined sinks: plain functions over a Connection the caller's transaction owns."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from residency_gate.storage.tables import policies, quarantined_sinks


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    revision: int
    version: str
    hash: str
    document: str
    source_text: str
    created_by: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Quarantine:
    sink: str
    reason: str
    created_by: str
    created_at: str


def _stored(row: sa.Row[tuple[object, ...]]) -> StoredPolicy:
    m = row._mapping
    return StoredPolicy(
        revision=int(str(m["revision"])),
        version=str(m["version"]),
        hash=str(m["hash"]),
        document=str(m["document"]),
        source_text=str(m["source_text"]),
        created_by=str(m["created_by"]),
        created_at=str(m["created_at"]),
    )


def active_policy(conn: Connection) -> StoredPolicy | None:
    row = conn.execute(
        sa.select(policies).where(policies.c.active.is_(True)).order_by(policies.c.revision.desc()).limit(1)
    ).first()
    return _stored(row) if row is not None else None


def policy_with_version(conn: Connection, version: str) -> StoredPolicy | None:
    row = conn.execute(
        sa.select(policies).where(policies.c.version == version).order_by(policies.c.revision).limit(1)
    ).first()
    return _stored(row) if row is not None else None


def policy_history(conn: Connection) -> list[StoredPolicy]:
    return [_stored(r) for r in conn.execute(sa.select(policies).order_by(policies.c.revision))]


def activate_policy(
    conn: Connection,
    *,
    version: str,
    hash: str,
    document: str,
    source_text: str,
    created_by: str,
    created_at: str,
) -> int:
    """Store a new revision and make it the only active one; returns its revision number."""
    conn.execute(policies.update().where(policies.c.active.is_(True)).values(active=False))
    result = conn.execute(
        policies.insert().values(
            version=version,
            hash=hash,
            document=document,
            source_text=source_text,
            active=True,
            created_by=created_by,
            created_at=created_at,
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key is not None else 0


def quarantined(conn: Connection) -> list[Quarantine]:
    rows = conn.execute(sa.select(quarantined_sinks).order_by(quarantined_sinks.c.sink))
    return [Quarantine(str(r.sink), str(r.reason), str(r.created_by), str(r.created_at)) for r in rows]


def add_quarantine(conn: Connection, entry: Quarantine) -> bool:
    """Quarantine a sink; False when it already was."""
    exists = conn.execute(
        sa.select(quarantined_sinks.c.sink).where(quarantined_sinks.c.sink == entry.sink)
    ).first()
    if exists is not None:
        return False
    conn.execute(
        quarantined_sinks.insert().values(
            sink=entry.sink, reason=entry.reason, created_by=entry.created_by, created_at=entry.created_at
        )
    )
    return True


def remove_quarantine(conn: Connection, sink: str) -> bool:
    """Release a sink; False when it was not quarantined."""
    result = conn.execute(quarantined_sinks.delete().where(quarantined_sinks.c.sink == sink))
    return bool(result.rowcount)


__all__ = [
    "Quarantine",
    "StoredPolicy",
    "activate_policy",
    "active_policy",
    "add_quarantine",
    "policy_history",
    "policy_with_version",
    "quarantined",
    "remove_quarantine",
]
