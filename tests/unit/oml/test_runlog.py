"""Run directories: what a run writes, how a killed run reads, the bundle and the HTML report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oml.runlog import RunLog, bundle, events, find_run, html_report, list_runs, metrics_summary
from spine.errors import ConfigError

MANIFEST = json.dumps({"steps": [{"id": "src", "component": "c", "config": {"a": 1},
                                  "connection": {"fields": {"token": "***"}}}]})  # fmt: skip


def _log(home: Path) -> RunLog:
    log = RunLog(home, "p", MANIFEST, run_id="r1")
    log.status("running")
    log.event("run.start", pipeline="p")
    log.metric("src", "rows_in", 10)
    log.metric("src", "rows_in", 25)
    log.metric("src", "latency_us_per_row", 3.5)
    (log.artifacts("src") / "stats.json").write_text("{}")
    return log


def test_a_run_writes_events_metrics_status_and_artifacts(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.status("completed", read=25)
    log.close()
    run = find_run(tmp_path, "r1")
    assert run.status["state"] == "completed"
    assert run.status["read"] == 25
    assert [e["event_type"] for e in events(run)] == ["run.start"]
    assert metrics_summary(run) == {"src": {"rows_in": 25.0, "latency_us_per_row": 3.5}}
    assert sorted(p.name for p in run.dir.iterdir()) == [
        "artifacts", "events.jsonl", "manifest.json", "metrics.jsonl", "status.json"
    ]  # fmt: skip


def test_a_run_whose_process_is_gone_reads_as_killed(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    log = _log(tmp_path)
    log.close()
    status = json.loads((log.dir / "status.json").read_text())
    status["pid"] = int(child.stdout)
    (log.dir / "status.json").write_text(json.dumps(status))
    with (log.dir / "events.jsonl").open("a") as cut:
        cut.write('{"timestamp": "2026')  # a line cut by SIGKILL
    [run] = list_runs(tmp_path)
    assert run.status["state"] == "killed"
    assert len(events(run)) == 1
    assert os.getpid() != status["pid"]


def test_bundle_holds_manifest_config_timeline_metrics_and_artifacts(tmp_path: Path) -> None:
    _log(tmp_path).close()
    text = bundle(find_run(tmp_path, "last"))
    for heading in ("## Manifest", "## Resolved configuration (secrets masked)", "## Event timeline",
                    "## Metrics summary", "## Artifacts"):  # fmt: skip
        assert heading in text
    assert "src/stats.json" in text
    assert '"token": "***"' in text


def test_html_report_charts_rows_and_latency_per_step(tmp_path: Path) -> None:
    _log(tmp_path).close()
    page = html_report(find_run(tmp_path, "r1"))
    assert page.startswith("<!doctype html>")
    assert "25 in" in page
    assert "3.5 µs/row" in page


def test_an_unknown_run_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such run"):
        find_run(tmp_path, "nope")
