"""Window and unique-in-window state that survives a restart: SQLite under the spine's home.

After each batch's sinks are durable and before its offsets are committed, the runner saves the topology's
state with the source offsets it covers (per partition, the offset after the last record it holds), in one
SQLite transaction. On start it loads them back: a record below its partition's saved offset was already
through the whole topology (its outputs durable, its effect in the state), so it is skipped; everything
from there on is new. A kill anywhere thus neither counts a record twice nor loses one from a window.

The state is a process's own: exact when one process runs the pipeline (or each restart owns the
partitions it had); it does not move with a partition when the group rebalances between processes.
A changed manifest discards the saved state (a different pipeline's windows mean something else).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS pipeline_state (
    pipeline_group TEXT PRIMARY KEY,
    manifest_sha256 TEXT NOT NULL,
    offsets TEXT NOT NULL,
    state TEXT NOT NULL
)
"""


@dataclass
class Saved:
    manifest_sha256: str
    offsets: dict[str, int] = field(default_factory=dict)  # "topic:partition" -> next offset
    state: dict[str, Any] = field(default_factory=dict)  # step id -> operator state


def partition_key(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


class StateStore:
    """One row per pipeline consumer group in ``<home>/state/oml-pipelines.db``."""

    def __init__(self, home: Path, group: str) -> None:
        folder = home / "state"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "oml-pipelines.db"
        self.group = group
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(SCHEMA)

    def load(self) -> Saved | None:
        row = self._db.execute(
            "SELECT manifest_sha256, offsets, state FROM pipeline_state WHERE pipeline_group = ?",
            (self.group,),
        ).fetchone()
        if row is None:
            return None
        return Saved(str(row[0]), json.loads(row[1]), json.loads(row[2]))

    def save(self, saved: Saved) -> None:
        self._db.execute(
            "INSERT INTO pipeline_state (pipeline_group, manifest_sha256, offsets, state) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (pipeline_group) DO UPDATE SET manifest_sha256 = excluded.manifest_sha256,"
            " offsets = excluded.offsets, state = excluded.state",
            (self.group, saved.manifest_sha256, json.dumps(saved.offsets, sort_keys=True),
             json.dumps(saved.state, sort_keys=True)),
        )  # fmt: skip

    def close(self) -> None:
        self._db.close()


__all__ = ["Saved", "StateStore", "partition_key"]
