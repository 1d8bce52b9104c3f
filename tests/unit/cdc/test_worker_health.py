"""The CDC workers' heartbeats as ``spine up`` and ``spine status`` judge them, without servers."""

from __future__ import annotations

import time
from pathlib import Path

from cdc.health import router_state
from spine.runtime.health import HealthStatus, health
from spine.runtime.heartbeat import judge, write_heartbeat
from spine.runtime.services import Kind, planned_services
from spine.settings import SpineSettings


def test_a_fresh_running_heartbeat_is_healthy_and_anything_else_is_down(tmp_path: Path) -> None:
    now = time.time()
    assert judge({"state": "running", "at": now - 1}, now) == (True, None)
    assert judge(None, now) == (False, "no heartbeat yet")
    assert judge({"state": "running", "at": now - 60}, now) == (False, "heartbeat 60s old")
    assert judge({"state": "starting", "at": now}, now) == (False, "starting")
    failed = {"state": "failed", "at": now, "reason": "the Debezium engine stopped"}
    assert judge(failed, now) == (False, "failed: the Debezium engine stopped")
    beat = tmp_path / "w.json"
    assert health("worker", str(beat)).status is HealthStatus.DOWN
    write_heartbeat(beat, "running")
    assert health("worker", str(beat)).status is HealthStatus.HEALTHY
    write_heartbeat(beat, "failed", {"reason": "boom"})
    assert health("worker", str(beat)).reason == "failed: boom"


def test_the_router_is_running_while_its_loop_polls_and_stalled_after() -> None:
    assert router_state(None, 100.0) == ("starting", None)
    assert router_state(99.0, 100.0) == ("running", None)
    assert router_state(10.0, 100.0, stall_after=60) == ("stalled", "no poll for 90s")


def test_cdc_workers_are_planned_only_with_routes_and_have_no_port(tmp_path: Path) -> None:
    assert not [s for s in planned_services(embedded_broker=True) if s.kind is Kind.WORKER]
    workers = [s for s in planned_services(embedded_broker=True, cdc=True) if s.kind is Kind.WORKER]
    assert [w.name for w in workers] == ["cdc-source", "cdc-router"]
    spine = SpineSettings(home=tmp_path)
    assert workers[0].port(spine) == 0
    assert workers[0].url(spine) == str(tmp_path / "run" / "cdc-source.heartbeat.json")
