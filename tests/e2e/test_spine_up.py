"""``spine up`` / ``status`` / ``down`` as a user runs them: real processes, real ports."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from spine.broker import port_is_free
from spine.runtime.state import is_same_process
from spine.settings import DEFAULT_PORTS

pytestmark = pytest.mark.integration


def spine(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 240, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    full_env.update(env or {})
    full_env["SPINE_HOME"] = str(home)
    full_env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def free_offset() -> int:
    """A random port offset whose ports are all free (random, so concurrent runs rarely collide)."""
    for _ in range(200):
        offset = random.randrange(12000, 23000)  # stays below the ephemeral port range
        if all(port_is_free("127.0.0.1", p + offset) for p in DEFAULT_PORTS.values()):
            return offset
    raise RuntimeError("no free port range")


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "spine-home"
    yield path
    spine("down", home=path)


def test_up_detach_gives_a_healthy_spine_and_down_leaves_nothing_running(home: Path) -> None:
    offset = str(free_offset())
    result = spine("up", "--detach", "--port-offset", offset, home=home)
    assert result.returncode == 0, result.stderr + result.stdout

    status = spine("status", "--json", home=home)
    assert status.returncode == 0, status.stderr
    services = json.loads(status.stdout)
    names = {s["name"] for s in services}
    assert "broker" in names
    for service in services:
        assert service["healthy"] is True, service
        assert service["pid"] > 0
        assert set(service) >= {"name", "url", "pid", "healthy"}
    broker = next(s for s in services if s["name"] == "broker")
    assert broker["url"].endswith(str(DEFAULT_PORTS["broker"] + int(offset)))
    assert broker["outbox_pending"] is None
    outboxes = {
        s["name"]: s["outbox_pending"] for s in services if s["name"] in {"registry", "residency-gate"}
    }
    assert len(outboxes) == 2
    assert all(isinstance(n, int) and n >= 0 for n in outboxes.values()), outboxes
    assert {"lineage", "registry", "residency-gate"} <= names
    table = spine("status", home=home)
    assert "pending" in table.stdout
    assert (home / "auth" / "admin.token").read_text().startswith("spn_")
    state = json.loads((home / "run" / "spine.json").read_text())
    pids = [(state["supervisor_pid"], state["supervisor_started_at"])]
    pids += [(s["pid"], s["started_at"]) for s in state["services"]]

    down = spine("down", home=home)
    assert down.returncode == 0, down.stderr
    for pid, started in pids:
        assert not is_same_process(pid, started), f"pid {pid} still running after spine down"
    for port in DEFAULT_PORTS.values():
        assert port_is_free("127.0.0.1", port + int(offset))
    after = spine("status", "--json", home=home)
    assert after.returncode == 3
    assert json.loads(after.stdout) == []


def test_supervisor_restarts_a_crashed_service(home: Path) -> None:
    assert spine("up", "--detach", "--port-offset", str(free_offset()), home=home).returncode == 0
    before = {s["name"]: s for s in json.loads(spine("status", "--json", home=home).stdout)}
    os.kill(before["broker"]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = {s["name"]: s for s in json.loads(spine("status", "--json", home=home).stdout or "[]")}
        if now["broker"]["restarts"] >= 1 and now["broker"]["healthy"]:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"broker was not restarted: {now}")
    assert now["broker"]["pid"] != before["broker"]["pid"]


def test_up_on_a_taken_port_names_the_port_and_service_and_starts_nothing(home: Path) -> None:
    offset = free_offset()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", DEFAULT_PORTS["broker"] + offset))
        taken.listen()
        result = spine("up", "--detach", "--port-offset", str(offset), home=home)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"error: port {DEFAULT_PORTS['broker'] + offset} needed by broker is already in use"]
    assert not (home / "run" / "spine.json").exists()


def test_unknown_setting_is_named_and_exits_2(home: Path) -> None:
    result = spine("status", home=home, env={"SPINE_PORT_OFSET": "3"})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: environment: unknown setting SPINE_PORT_OFSET"


def test_malformed_config_file_is_named_and_exits_2(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "spine.toml"
    config.write_text("[spine\nport_offset = 3\n")
    result = spine("up", "--config", str(config), home=home)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {config}: malformed TOML")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_key_in_config_file_is_named(home: Path, tmp_path: Path) -> None:
    config = tmp_path / "spine.toml"
    config.write_text("[kafka]\nbootstrapp = 'x:1'\n")
    result = spine("up", "--config", str(config), home=home)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {config}: [kafka] bootstrapp: unknown setting"


def test_auth_token_prints_a_token_whose_hash_is_stored(home: Path) -> None:
    result = spine("auth", "token", "--role", "producer", home=home)
    assert result.returncode == 0
    token = result.stdout.strip()
    store = (home / "auth" / "tokens.json").read_text()
    assert token.startswith("spn_")
    assert token not in store
    import hashlib

    assert hashlib.sha256(token.encode()).hexdigest() in store


def test_foreground_up_stops_everything_on_ctrl_c(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env["SPINE_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "up", "--port-offset", str(free_offset())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        services: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            status = spine("status", "--json", home=home)
            services = json.loads(status.stdout or "[]")
            if status.returncode == 0 and services:
                break
            time.sleep(0.3)
        assert services, "spine up never became healthy"
        state = json.loads((home / "run" / "spine.json").read_text())
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    for service in state["services"]:
        assert not is_same_process(service["pid"], service["started_at"]), service["name"]
    assert not is_same_process(state["supervisor_pid"], state["supervisor_started_at"])


def test_ctrl_c_while_the_spine_starts_stops_it_cleanly(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env["SPINE_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "up", "--port-offset", str(free_offset())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (home / "run" / "spine.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        state = json.loads((home / "run" / "spine.json").read_text())
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr
        assert "The spine has stopped." in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not is_same_process(state["supervisor_pid"], state["supervisor_started_at"])
    final = (
        json.loads((home / "run" / "spine.json").read_text())
        if (home / "run" / "spine.json").exists()
        else {}
    )
    for service in final.get("services", []):
        if service.get("pid"):
            assert not is_same_process(service["pid"], service["started_at"]), service["name"]
