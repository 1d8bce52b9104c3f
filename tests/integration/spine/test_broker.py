from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from spine.broker import EmbeddedBroker, free_port
from spine.errors import BrokerStartError, PortInUseError
from spine.runtime.health import broker_healthy

pytestmark = pytest.mark.integration


def test_embedded_broker_answers_metadata_and_stops_cleanly(tmp_path: Path) -> None:
    broker = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    broker.start()
    pid = broker.pid
    assert pid is not None
    assert broker_healthy(broker.bootstrap)
    broker.stop()
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    assert not broker_healthy(broker.bootstrap, timeout=0.5)


def test_broker_on_a_taken_port_names_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"port {port} needed by broker"):
            EmbeddedBroker(port).start()


def test_broker_that_fails_to_start_gives_a_clear_error_and_leaves_nothing_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\necho 'cannot allocate storage' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SPINE_TANSU_BIN", str(fake))
    broker = EmbeddedBroker(free_port(), log_file=tmp_path / "broker.log")
    with pytest.raises(BrokerStartError, match="exited with code 3"):
        broker.start()
    assert broker.pid is None
    left = subprocess.run(["pgrep", "-f", str(fake)], capture_output=True, text=True)
    assert left.stdout == ""
    assert "cannot allocate storage" in (tmp_path / "broker.log").read_text()
