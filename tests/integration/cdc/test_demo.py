"""``spine demo cdc`` as the README runs it: its own PostgreSQL, broker, gate, Debezium and router."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.demo import LINEAGE_FILE, _deliver_lineage
from spine.auth import Role
from spine.broker import free_port
from tests.integration.lineage.service import Lineage, start_lineage

pytestmark = pytest.mark.integration


@pytest.fixture
def lineage(tmp_path: Path) -> Iterator[Lineage]:
    service = start_lineage(tmp_path / "lineage")
    yield service
    service.stop()


def test_demo_cdc_shows_one_route_redacted_in_the_sink_and_one_denied_into_the_dlq(
    tmp_path: Path, lineage: Lineage
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(
        SPINE_HOME=str(tmp_path / "home"),
        SPINE_LINEAGE_URL=lineage.url,
        SPINE_TOKEN=lineage.tokens[Role.PRODUCER],
    )
    done = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "cdc", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    rows = result["sink_rows"]
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert {r["email"] for r in rows} == {"****"}  # never the address itself
    assert rows[2]["country"] == "IE"  # the update arrived
    assert "@example.org" not in done.stdout
    letters = result["dead_letters"]
    assert len(letters) == 2
    for letter in letters:
        assert "denied route payments" in letter["reason"]
        assert letter["decision_id"]
    decisions: dict[str, set[str]] = {}
    for batch in result["batches"]:  # every batch recorded beside its decision ids
        decisions.setdefault(batch["route"], set()).update(json.loads(batch["decision_ids"]))
    assert {letter["decision_id"] for letter in letters} <= decisions["payments"]
    assert decisions["customers"]
    # Each batch's run reached the lineage service, the decisions on it, and the UI link shows the job.
    sent = result["lineage"]
    assert sent["sent_to"] == lineage.url
    assert sent["events"] >= 2 * len(result["batches"])
    assert sent["jobs"] == ["cdc.demo.customers", "cdc.demo.payments"]
    assert sent["ui"] == f"{lineage.url}/#node=job%3Adata-spine%3Acdc.demo.customers&depth=2"
    states: dict[str, set[str]] = {}
    for job in sent["jobs"]:
        runs = lineage.get(f"/api/v1/namespaces/data-spine/jobs/{job}/runs").json()["runs"]
        assert len(runs) == len([b for b in result["batches"] if f"cdc.demo.{b['route']}" == job])
        states[job] = {r["state"] for r in runs}
        assert all("spine_residency" in r["facets"] for r in runs)
    assert states == {"cdc.demo.customers": {"COMPLETED"}, "cdc.demo.payments": {"FAILED"}}


def test_without_a_lineage_service_the_demo_saves_its_lineage_for_spine_lineage_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPINE_HOME", str(tmp_path))
    monkeypatch.setenv("SPINE_LINEAGE_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    events = [{"eventType": "START", "job": {"namespace": "data-spine", "name": "cdc.demo.customers"}}]
    outcome = _deliver_lineage(events)
    assert outcome["sent_to"] is None
    assert "lineage unreachable" in outcome["reason"]
    assert outcome["file"] == str(tmp_path / LINEAGE_FILE)
    assert json.loads((tmp_path / LINEAGE_FILE).read_text()) == events
