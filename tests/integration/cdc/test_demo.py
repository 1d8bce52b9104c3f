"""``spine demo cdc`` as the README runs it: its own PostgreSQL, broker, gate, Debezium and router."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def test_demo_cdc_shows_one_route_redacted_in_the_sink_and_one_denied_into_the_dlq() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
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
