"""``spine lineage send|show|export`` against a running lineage service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from spine.auth import Role
from tests.integration.lineage.service import Lineage
from tests.unit.lineage.events import dataset, run_event, tags_facet

pytestmark = pytest.mark.integration


@pytest.fixture
def runner(lineage: Lineage, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SPINE_LINEAGE_URL", lineage.url)
    monkeypatch.setenv("SPINE_TOKEN", lineage.tokens[Role.PRODUCER])
    monkeypatch.setenv("SPINE_HOME", str(lineage.home))
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_send_show_and_export(runner: CliRunner, tmp_path: Path) -> None:
    events = [
        run_event("load", inputs=[dataset("ns", "raw", tags=tags_facet(("PII", None)))],
                  outputs=[dataset("ns", "clean")]),
        run_event("report", inputs=[dataset("ns", "clean")], outputs=[dataset("ns", "report")]),
    ]  # fmt: skip
    file = tmp_path / "events.json"
    file.write_text(json.dumps(events))
    result = run(runner, "lineage", "send", str(file), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"received": 2, "stored": 2, "duplicates": 0}
    result = run(runner, "lineage", "show", "dataset:ns:raw", "--depth", "4", "--json")
    assert result.exit_code == 0, result.output
    assert {n["id"] for n in json.loads(result.output)["graph"]} == {
        "dataset:ns:raw", "job:spine:load", "dataset:ns:clean", "job:spine:report", "dataset:ns:report",
    }  # fmt: skip
    table = run(runner, "lineage", "show", "dataset:ns:raw", "--tag", "PII")
    assert table.exit_code == 0
    assert "dataset:ns:raw" in table.output
    out = tmp_path / "export.jsonl"
    result = run(runner, "lineage", "export", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text().splitlines()] == events


def test_send_refuses_an_invalid_event_naming_its_path(runner: CliRunner, tmp_path: Path) -> None:
    event = run_event("j")
    del event["run"]["runId"]
    file = tmp_path / "bad.json"
    file.write_text(json.dumps([run_event("ok"), event]))
    result = run(runner, "lineage", "send", str(file))
    assert result.exit_code == 1
    assert "$[1].run.runId" in result.output
    file.write_text("{nope")
    assert run(runner, "lineage", "send", str(file)).exit_code == 2


def test_an_unreachable_service_exits_3(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINE_LINEAGE_URL", "http://127.0.0.1:9")
    assert run(runner, "lineage", "show", "dataset:ns:x").exit_code == 3
