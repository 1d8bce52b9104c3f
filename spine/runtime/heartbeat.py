"""Heartbeat files: how a supervised worker without an HTTP port tells ``spine up`` it is doing its work.

The worker rewrites a small JSON file (atomically) every few seconds with its state. It is healthy only
while the file is fresh and says ``running``; a worker that is still starting, or whose work failed (a
Debezium engine that could not start, a router whose poll loop stalled), says so and is down.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

STALE_AFTER_S = 15.0
RUNNING = "running"


def write_heartbeat(path: Path, state: str, detail: Mapping[str, Any] | None = None) -> None:
    body = {"state": state, "at": time.time(), "pid": os.getpid(), **(detail or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body), encoding="utf-8")
    tmp.replace(path)


def read_heartbeat(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def judge(
    beat: Mapping[str, Any] | None, now: float, stale_after: float = STALE_AFTER_S
) -> tuple[bool, str | None]:
    """(healthy, reason when not): fresh and ``running``."""
    if beat is None:
        return False, "no heartbeat yet"
    at = beat.get("at")
    if not isinstance(at, int | float):
        return False, "heartbeat without a time"
    if now - at > stale_after:
        return False, f"heartbeat {now - at:.0f}s old"
    if beat.get("state") != RUNNING:
        reason = beat.get("reason")
        return False, f"{beat.get('state')}: {reason}" if reason else str(beat.get("state"))
    return True, None


class Heartbeat:
    """Writes ``probe()``'s (state, detail) to ``path`` every ``interval`` seconds from a daemon thread."""

    def __init__(
        self, path: Path, probe: Callable[[], tuple[str, Mapping[str, Any]]], interval: float = 2.0
    ) -> None:
        self.path = path
        self.probe = probe
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            state, detail = self.probe()
            write_heartbeat(self.path, state, detail)
            self._stop.wait(self.interval)

    def stop(self, final_state: str = "stopped") -> None:
        self._stop.set()
        self._thread.join(5)
        write_heartbeat(self.path, final_state)


__all__ = ["RUNNING", "STALE_AFTER_S", "Heartbeat", "judge", "read_heartbeat", "write_heartbeat"]
