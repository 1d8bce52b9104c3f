"""The supervisor's state file (``$SPINE_HOME/run/spine.json``) and process identity checks.

A pid alone is not an identity: pids are reused. Each recorded process also keeps its start time from
``/proc/<pid>/stat``, and nothing is signalled unless both still match.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spine.errors import ConfigError

STATE_FILE = "spine.json"


@dataclass
class ServiceState:
    name: str
    kind: str
    url: str
    port: int
    pid: int | None = None
    started_at: int | None = None  # process start time in clock ticks since boot
    restarts: int = 0
    log: str | None = None


@dataclass
class SpineState:
    supervisor_pid: int
    supervisor_started_at: int | None
    home: str
    status: str = "starting"  # starting | running | stopping | failed | stopped
    error: str | None = None
    exit_code: int | None = None
    kafka_bootstrap: str | None = None
    services: list[ServiceState] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpineState:
        services = [ServiceState(**s) for s in data.pop("services", [])]
        return cls(**data, services=services)


def state_path(run_dir: Path) -> Path:
    return run_dir / STATE_FILE


def write_state(run_dir: Path, state: SpineState) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = state_path(run_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json(), encoding="utf-8")
    tmp.replace(path)


def read_state(run_dir: Path) -> SpineState | None:
    path = state_path(run_dir)
    try:
        return SpineState.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"{path}: unreadable state file ({exc}); remove it if no spine is running") from exc


def process_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after the closing paren are fixed.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])


def is_same_process(pid: int | None, started_at: int | None) -> bool:
    if pid is None or pid <= 0:
        return False
    now = process_start_time(pid)
    if now is None:
        return False
    if _is_zombie(pid):
        return False
    return started_at is None or now == started_at


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def signal_process(pid: int | None, started_at: int | None, sig: signal.Signals) -> bool:
    """Send ``sig`` only if ``pid`` is still the process we started; True if it was sent."""
    if not is_same_process(pid, started_at):
        return False
    assert pid is not None
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pid: int | None, started_at: int | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_same_process(pid, started_at):
            return True
        time.sleep(0.05)
    return not is_same_process(pid, started_at)


__all__ = [
    "ServiceState",
    "SpineState",
    "is_same_process",
    "process_start_time",
    "read_state",
    "signal_process",
    "state_path",
    "wait_gone",
    "write_state",
]
