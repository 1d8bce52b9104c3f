"""``python -m registry`` starts the service, which answers /health/ready."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from spine.broker import free_port

pytestmark = pytest.mark.integration


def test_python_m_registry_reaches_ready(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env |= {"SPINE_HOME": str(tmp_path), "SPINE_REGISTRY_PORT": str(port)}
    log = tmp_path / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "registry"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).json()["status"]
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert status == "ok", log.read_text()
        assert (tmp_path / "registry" / "registry.db").is_file()
    finally:
        proc.terminate()
        proc.wait(10)


def test_python_m_registry_refuses_an_unknown_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env |= {"SPINE_HOME": str(tmp_path), "SPINE_REGISTRY_PORTT": "1"}
    done = subprocess.run([sys.executable, "-m", "registry"], env=env, capture_output=True, timeout=30)
    assert done.returncode == 2
    assert b"SPINE_REGISTRY_PORTT" in done.stderr
