"""Run logs of pipelines: ``$SPINE_HOME/runs/<run_id>/`` with ``events.jsonl``, ``metrics.jsonl``,
``status.json``, ``manifest.json`` and ``artifacts/<step_id>/``, and the readers behind ``spine logs``.

Only masked data is ever written here (the manifest masks secrets; events carry no connection values), so a
bundle or report made from a run directory cannot leak one. Lines are appended and flushed as they happen,
so a killed run leaves a readable log.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from spine.errors import ConfigError

RUNS_DIR = "runs"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def runs_root(home: Path) -> Path:
    return home / RUNS_DIR


def new_run_id(name: str) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{name}-{secrets.token_hex(3)}"


class RunLog:
    """Writes one run's directory."""

    def __init__(self, home: Path, name: str, manifest_text: str, *, run_id: str | None = None) -> None:
        self.run_id = run_id or new_run_id(name)
        self.name = name
        self.dir = runs_root(home) / self.run_id
        (self.dir / "artifacts").mkdir(parents=True, exist_ok=False)
        (self.dir / "manifest.json").write_text(manifest_text, encoding="utf-8")
        self._events: TextIO = (self.dir / "events.jsonl").open("a", encoding="utf-8")
        self._metrics: TextIO = (self.dir / "metrics.jsonl").open("a", encoding="utf-8")
        self.started = now_iso()
        self._status: dict[str, Any] = {}

    def artifacts(self, step_id: str) -> Path:
        path = self.dir / "artifacts" / step_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def event(self, event_type: str, **data: Any) -> None:
        line = {"timestamp": now_iso(), "event_type": event_type, "run_id": self.run_id, "data": data}
        self._events.write(json.dumps(line, sort_keys=True, default=str) + "\n")
        self._events.flush()

    def metric(self, step_id: str | None, metric: str, value: float, **tags: Any) -> None:
        line = {"timestamp": now_iso(), "metric": metric, "value": value, "step_id": step_id, "tags": tags}
        self._metrics.write(json.dumps(line, sort_keys=True, default=str) + "\n")
        self._metrics.flush()

    def status(self, state: str, **fields: Any) -> None:
        self._status.update(fields)
        body = {"run_id": self.run_id, "pipeline": self.name, "state": state, "started": self.started,
                "updated": now_iso(), "pid": os.getpid(), **self._status}  # fmt: skip
        tmp = self.dir / "status.json.tmp"
        tmp.write_text(json.dumps(body, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.dir / "status.json")

    def close(self) -> None:
        self._events.close()
        self._metrics.close()


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    dir: Path
    status: Mapping[str, Any]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill
        if isinstance(item, dict):
            yield item


def list_runs(home: Path) -> list[RunInfo]:
    root = runs_root(home)
    if not root.is_dir():
        return []
    out = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name, reverse=True):
        status = _read_json(entry / "status.json")
        if isinstance(status, dict):
            out.append(RunInfo(entry.name, entry, _live_state(status)))
    return out


def _live_state(status: dict[str, Any]) -> dict[str, Any]:
    """A run marked running whose process is gone was killed: say so instead of "running"."""
    if status.get("state") in {"starting", "running"} and not _alive(status.get("pid")):
        return {**status, "state": "killed"}
    return status


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_run(home: Path, run_id: str) -> RunInfo:
    for run in list_runs(home):
        if run.run_id == run_id or (run_id == "last"):
            return run
    raise ConfigError(f"run {run_id}: no such run under {runs_root(home)}")


def events(run: RunInfo) -> list[dict[str, Any]]:
    return list(_jsonl(run.dir / "events.jsonl"))


def metrics(run: RunInfo) -> list[dict[str, Any]]:
    return list(_jsonl(run.dir / "metrics.jsonl"))


def metrics_summary(run: RunInfo) -> dict[str, dict[str, float]]:
    """The last value of each metric per step (counters are cumulative)."""
    out: dict[str, dict[str, float]] = {}
    for item in metrics(run):
        step = str(item.get("step_id") or "(run)")
        out.setdefault(step, {})[str(item["metric"])] = float(item["value"])
    return out


def artifact_listing(run: RunInfo) -> list[str]:
    root = run.dir / "artifacts"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def bundle(run: RunInfo) -> str:
    """One text file for a person or a tool: manifest, resolved config (secrets masked), event timeline,
    metrics summary and artifact listing."""
    manifest = _read_json(run.dir / "manifest.json") or {}
    config = [
        {
            "id": s.get("id"),
            "component": s.get("component"),
            "config": s.get("config"),
            "connection": s.get("connection"),
        }
        for s in manifest.get("steps", [])
    ]
    parts = [
        f"# Run {run.run_id}",
        "## Status",
        json.dumps(run.status, indent=2, sort_keys=True),
        "## Manifest",
        json.dumps(manifest, indent=2, sort_keys=True),
        "## Resolved configuration (secrets masked)",
        json.dumps(config, indent=2, sort_keys=True),
        "## Event timeline",
        *(
            f"{e.get('timestamp')} {e.get('event_type')} {json.dumps(e.get('data'), sort_keys=True)}"
            for e in events(run)
        ),
        "## Metrics summary",
        json.dumps(metrics_summary(run), indent=2, sort_keys=True),
        "## Artifacts",
        *(artifact_listing(run) or ["(none)"]),
    ]
    return "\n".join(parts) + "\n"


def html_report(run: RunInfo) -> str:
    """A self-contained HTML page: status, and per step a bar of rows in/out and one of time per row."""
    summary = metrics_summary(run)
    steps = [s for s in summary if s != "(run)"]
    widest = max([summary[s].get("rows_in", 0) for s in steps] + [1])
    slowest = max([summary[s].get("latency_us_per_row", 0) for s in steps] + [1])
    rows = []
    for step in steps:
        m = summary[step]
        rin, rout, lat = m.get("rows_in", 0), m.get("rows_out", 0), m.get("latency_us_per_row", 0)
        w_in, w_out, w_lat = 200 * rin / widest, 200 * rout / widest, 200 * lat / slowest
        rows.append(
            f"<tr><td>{html.escape(step)}</td><td><svg width='220' height='28'>"
            f"<rect y='2' height='11' width='{w_in:.1f}' fill='#4a7'/>"
            f"<rect y='15' height='11' width='{w_out:.1f}' fill='#27a'/></svg>"
            f" {rin:.0f} in / {rout:.0f} out</td>"
            f"<td><svg width='220' height='14'><rect height='12' width='{w_lat:.1f}' fill='#c73'/></svg>"
            f" {lat:.1f} µs/row</td></tr>"
        )
    timeline = "".join(
        f"<li><code>{html.escape(str(e.get('timestamp')))}</code> {html.escape(str(e.get('event_type')))}"
        "</li>"
        for e in events(run)
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>Run {html.escape(run.run_id)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:4px 12px}</style></head><body>"
        f"<h1>Run {html.escape(run.run_id)}</h1>"
        f"<p>pipeline <b>{html.escape(str(run.status.get('pipeline')))}</b>, state "
        f"<b>{html.escape(str(run.status.get('state')))}</b></p>"
        "<h2>Rows and latency per step</h2><table><tr><th>step</th><th>rows</th><th>latency</th></tr>"
        + "".join(rows)
        + f"</table><h2>Events</h2><ul>{timeline}</ul></body></html>\n"
    )


def wait_for_status(run_dir: Path, states: set[str], timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _read_json(run_dir / "status.json")
        if isinstance(status, dict) and status.get("state") in states:
            return status
        time.sleep(0.1)
    return None


__all__ = ["RunInfo", "RunLog", "bundle", "events", "find_run", "html_report", "list_runs", "metrics",
           "metrics_summary", "runs_root"]  # fmt: skip
