"""The supervisor behind ``spine up``: starts the broker and every service, restarts crashes, stops all.

It runs as its own process (own session, so a terminal's Ctrl-C reaches only ``spine up``, which asks it to
stop). It holds a lock on ``$SPINE_HOME/run`` so two spines never share a home, records every child's pid
and start time in the state file, and on SIGTERM/SIGINT stops children in reverse start order.
Children also get SIGTERM from the kernel if the supervisor dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from spine.auth import Role, TokenStore
from spine.broker import EmbeddedBroker, port_is_free
from spine.errors import ConfigError, ExitCode, PortInUseError, SpineError, UnavailableError
from spine.logging import configure_logging
from spine.runtime.health import HealthStatus, health
from spine.runtime.services import BROKER, Kind, ServiceSpec, planned_services
from spine.runtime.state import ServiceState, SpineState, process_start_time, write_state
from spine.settings import CdcSettings, KafkaSettings, SpineSettings, check_environment, load_settings

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 10.0
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 30.0
STABLE_AFTER_S = 60.0
ADMIN_TOKEN_FILE = "admin.token"  # noqa: S105 - a file name
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def check_ports(spine: SpineSettings, services: list[ServiceSpec]) -> None:
    for spec in services:
        if spec.kind is Kind.WORKER:
            continue
        port = spec.port(spine)
        if not port_is_free(spine.host, port):
            raise PortInUseError(port, spec.name)


def ensure_admin_token(spine: SpineSettings) -> Path:
    """Create the development admin credential once per home: token in a 0600 file, hash in the store."""
    path = spine.home / "auth" / ADMIN_TOKEN_FILE
    if not path.exists():
        token = TokenStore(spine.tokens_path).issue(Role.ADMIN, "spine-up-admin")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
    return path


@dataclass
class Child:
    spec: ServiceSpec
    state: ServiceState
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    next_start: float = 0.0
    backoff: float = BACKOFF_START_S
    last_start: float = 0.0


class Supervisor:
    def __init__(self, spine: SpineSettings, kafka: KafkaSettings, cdc: CdcSettings | None = None) -> None:
        self.spine = spine
        self.kafka = kafka
        self.embedded = not kafka.bootstrap
        routes = cdc is not None and cdc.routes_file is not None
        self.services = planned_services(embedded_broker=self.embedded, cdc=routes)
        self.bootstrap = kafka.bootstrap or BROKER.url(spine)
        self.children: list[Child] = []
        self.stopping = False
        self.state = SpineState(
            supervisor_pid=os.getpid(),
            supervisor_started_at=process_start_time(os.getpid()),
            home=str(spine.home),
            kafka_bootstrap=self.bootstrap,
        )

    # -- lifecycle -------------------------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            check_ports(self.spine, self.services)
            ensure_admin_token(self.spine)
            for spec in self.services:
                self._add_child(spec)
            self._publish()
            for child in self.children:
                if self.stopping:
                    break
                self._start(child)
                self._wait_ready(child)
            if not self.stopping:
                self.state.status = "running"
                self._publish()
                logger.info("spine running: %s", ", ".join(c.spec.name for c in self.children))
                self._monitor()
            return int(ExitCode.OK)
        except SpineError as exc:
            logger.error("%s", exc)
            self.state.status = "failed"
            self.state.error = str(exc)
            self.state.exit_code = int(exc.exit_code)
            return int(exc.exit_code)
        finally:
            self._stop_all()
            if self.state.status != "failed":
                self.state.status = "stopped"
            self._publish()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        self.stopping = True

    def _add_child(self, spec: ServiceSpec) -> None:
        log = self.spine.logs_dir / f"{spec.name}.log"
        self.children.append(
            Child(
                spec,
                ServiceState(
                    name=spec.name,
                    kind=spec.kind.value,
                    url=spec.url(self.spine),
                    port=spec.port(self.spine),
                    log=str(log),
                ),
            )
        )

    def _command(self, spec: ServiceSpec) -> list[str]:
        if spec.kind is Kind.BROKER:
            return EmbeddedBroker(spec.port(self.spine), host=self.spine.host).command()
        assert spec.module is not None
        if spec.kind is Kind.WORKER:
            return [sys.executable, "-m", spec.module, "--heartbeat", spec.url(self.spine)]
        return [sys.executable, "-m", spec.module]

    def _env(self, spec: ServiceSpec) -> dict[str, str]:
        env = dict(os.environ)
        env["SPINE_HOME"] = str(self.spine.home)
        env["SPINE_PORT_OFFSET"] = str(self.spine.port_offset)
        env["SPINE_KAFKA_BOOTSTRAP"] = self.bootstrap
        port_env = spec.port_env()
        if port_env:
            env[port_env] = str(spec.port(self.spine))
        for name, url in spec.peer_env(self.spine).items():
            env.setdefault(name, url)
        if spec.kind is Kind.WORKER and "SPINE_TOKEN" not in env:  # the router's credential for the gate
            env["SPINE_TOKEN"] = (self.spine.home / "auth" / ADMIN_TOKEN_FILE).read_text().strip()
        return env

    def _start(self, child: Child) -> None:
        self.spine.logs_dir.mkdir(parents=True, exist_ok=True)
        if child.log is None:
            child.log = Path(child.state.log or "").open("ab")  # noqa: SIM115 - lives as long as the child
        child.log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {child.spec.name}\n".encode())
        child.log.flush()
        if child.spec.kind is Kind.WORKER:  # a heartbeat left by an earlier run must not vouch for this one
            Path(child.state.url).unlink(missing_ok=True)
        try:
            child.process = subprocess.Popen(
                self._command(child.spec),
                stdout=child.log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env(child.spec),
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise UnavailableError(f"{child.spec.name} failed to start: {exc}") from exc
        child.last_start = time.monotonic()
        child.state.pid = child.process.pid
        child.state.started_at = process_start_time(child.process.pid)
        self._publish()
        logger.info("started %s (pid %d)", child.spec.name, child.process.pid)

    def _wait_ready(self, child: Child) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.stopping:
            proc = child.process
            if proc is not None and proc.poll() is not None:
                raise UnavailableError(
                    f"{child.spec.name} exited with code {proc.returncode} during start-up; "
                    f"see {child.state.log}"
                )
            # Degraded counts as started: an outbox backlog is drained while the service runs.
            if health(child.state.kind, child.state.url, timeout=1.0).status is not HealthStatus.DOWN:
                return
            if time.monotonic() > deadline:
                raise UnavailableError(
                    f"{child.spec.name} not healthy after {READY_TIMEOUT_S:.0f}s; see {child.state.log}"
                )
            time.sleep(0.1)

    def _monitor(self) -> None:
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                proc = child.process
                if proc is not None and proc.poll() is not None:
                    logger.warning(
                        "%s exited with code %s; restarting in %.0fs",
                        child.spec.name,
                        proc.returncode,
                        child.backoff,
                    )
                    child.process = None
                    child.state.pid = None
                    child.next_start = now + child.backoff
                    child.backoff = min(child.backoff * 2, BACKOFF_MAX_S)
                    self._publish()
                elif proc is None and now >= child.next_start:
                    child.state.restarts += 1
                    try:
                        self._start(child)
                    except SpineError as exc:
                        logger.error("%s", exc)
                        child.next_start = now + child.backoff
                elif proc is not None and now - child.last_start > STABLE_AFTER_S:
                    child.backoff = BACKOFF_START_S
            time.sleep(0.2)

    def _stop_all(self) -> None:
        self.state.status = "stopping"
        self._publish()
        for child in reversed(self.children):
            proc = child.process
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    logger.warning("%s did not stop in %.0fs; killing", child.spec.name, STOP_TIMEOUT_S)
                    proc.kill()
                    proc.wait(STOP_TIMEOUT_S)
            child.process = None
            child.state.pid = None
            if child.log is not None:
                child.log.close()
                child.log = None

    def _publish(self) -> None:
        self.state.services = [c.state for c in self.children]
        write_state(self.spine.run_dir, self.state)


def main() -> None:
    try:
        check_environment()
        spine = load_settings(SpineSettings)
        kafka = load_settings(KafkaSettings)
        cdc = load_settings(CdcSettings)
    except ConfigError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(int(exc.exit_code)) from None
    spine = spine.model_copy(update={"home": spine.home.resolve()})
    configure_logging(spine.log_level, spine.logs_dir / "supervisor.log")
    spine.run_dir.mkdir(parents=True, exist_ok=True)
    lock = (spine.run_dir / "supervisor.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.stderr.write(f"error: a spine is already running from {spine.home}\n")
        raise SystemExit(int(ExitCode.USAGE)) from None
    raise SystemExit(Supervisor(spine, kafka, cdc).run())


if __name__ == "__main__":
    main()
