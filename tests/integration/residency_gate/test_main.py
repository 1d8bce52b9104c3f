"""``python -m residency_gate`` (what ``spine up`` runs): reaches /health/ready, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from spine.broker import free_port
from tests.integration.residency_gate.gate import MATRIX

pytestmark = pytest.mark.integration


def gate_env(home: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(SPINE_HOME=str(home), SPINE_RESIDENCY_PORT=str(port), SPINE_RESIDENCY_POLICY_FILE=str(MATRIX))
    env.update(extra)
    return env


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the gate exited with {process.returncode}")
        try:
            response = httpx.get(f"{url}/health/ready", timeout=1.0)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gate did not become ready")


def test_python_m_residency_gate_becomes_ready_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    with (tmp_path / "gate.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "residency_gate"],
            env=gate_env(tmp_path, port),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}", process)
        assert ready.json()["service"] == "residency-gate"
        key = tmp_path / "residency" / "signing-key.pem"
        assert key.stat().st_mode & 0o777 == 0o600
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'residency' / 'gate.db'}")
    with engine.connect() as conn:
        signed = conn.execute(sa.text("SELECT max(tree_size) FROM checkpoints")).scalar()
    assert signed == 1, "a graceful stop signs a checkpoint over the tail"
    engine.dispose()


def test_an_unknown_setting_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "residency_gate"],
        env=gate_env(tmp_path, free_port(), SPINE_RESIDENCY_CHECKPOINT_EVERYY="5"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert b"SPINE_RESIDENCY_CHECKPOINT_EVERYY" in result.stderr


def test_a_bad_policy_file_at_start_is_refused_with_exit_2_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MATRIX.read_text(encoding="utf-8").replace("home: eu", "home: mars", 1), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "residency_gate"],
        env=gate_env(tmp_path, free_port(), SPINE_RESIDENCY_POLICY_FILE=str(bad)),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{bad}:7:".encode() in result.stderr
