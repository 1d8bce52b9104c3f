"""``spine up``, ``spine status``, ``spine down``: run the whole spine on one machine, no Docker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

import typer

from cli.common import console, err_console, fail, handle_errors, print_json, print_table
from spine.errors import ExitCode, UnavailableError
from spine.extras import ExtraMissingError, missing_module
from spine.runtime.health import Health, HealthStatus, health, outbox_pending
from spine.runtime.services import BROKER, planned_services
from spine.runtime.state import (
    SpineState,
    is_same_process,
    read_state,
    signal_process,
    state_path,
    wait_gone,
)
from spine.runtime.supervisor import ADMIN_TOKEN_FILE, check_ports
from spine.settings import CdcSettings, KafkaSettings, SpineSettings, load_settings

HOME_OPTION = typer.Option(None, "--home", help="State directory (default $SPINE_HOME or ./.spine).")


def _settings(home: Path | None, port_offset: int | None = None, config: Path | None = None) -> SpineSettings:
    if home is not None:
        os.environ["SPINE_HOME"] = str(home)
    if port_offset is not None:
        os.environ["SPINE_PORT_OFFSET"] = str(port_offset)
    if config is not None:
        os.environ["SPINE_CONFIG"] = str(config)
    spine = load_settings(SpineSettings)
    return spine.model_copy(update={"home": spine.home.resolve()})


def _running_state(spine: SpineSettings) -> SpineState | None:
    state = read_state(spine.run_dir)
    if state is None or not is_same_process(state.supervisor_pid, state.supervisor_started_at):
        return None
    return state


def _probe(kind: str, url: str, pid: int | None) -> Health:
    return health(kind, url) if pid is not None else Health(HealthStatus.DOWN, "not running")


def _pending(kind: str, url: str, pid: int | None) -> int | None:
    return outbox_pending(url) if kind == "http" and pid is not None else None


def _rows(state: SpineState) -> list[dict[str, Any]]:
    with ThreadPoolExecutor(max_workers=max(1, 2 * len(state.services))) as pool:
        probes = [pool.submit(_probe, s.kind, s.url, s.pid) for s in state.services]
        pendings = [pool.submit(_pending, s.kind, s.url, s.pid) for s in state.services]
        found = [p.result() for p in probes]
        pending = [p.result() for p in pendings]
    return [
        {
            "name": s.name,
            "url": s.url,
            "pid": s.pid,
            "healthy": h.ok,
            "status": str(h.status),
            "reason": h.reason,
            "restarts": s.restarts,
            "outbox_pending": waiting,
            "log": s.log,
        }
        for s, h, waiting in zip(state.services, found, pending, strict=True)
    ]


_STATUS_STYLE = {"healthy": "[green]healthy[/]", "degraded": "[yellow]degraded[/]", "down": "[red]down[/]"}


def _health_cell(row: dict[str, Any]) -> str:
    cell = _STATUS_STYLE.get(row["status"], row["status"])
    return f"{cell}: {row['reason']}" if row["reason"] and not row["healthy"] else cell


def _print_rows(rows: list[dict[str, Any]], title: str) -> None:
    print_table(
        title,
        ["service", "url", "pid", "health", "restarts", "outbox"],
        [
            [
                r["name"],
                r["url"],
                r["pid"] or "-",
                _health_cell(r),
                r["restarts"],
                "-" if r.get("outbox_pending") is None else f"{r['outbox_pending']} pending",
            ]
            for r in rows
        ],
    )


@handle_errors
def up(
    detach: bool = typer.Option(False, "--detach", "-d", help="Return once every service is healthy."),
    port_offset: int | None = typer.Option(None, "--port-offset", help="Shift every default port by N."),
    home: Path | None = HOME_OPTION,
    config: Path | None = typer.Option(None, "--config", help="TOML configuration file."),
    timeout: float = typer.Option(180.0, "--timeout", help="Seconds to wait for every service."),
) -> None:
    """Start the broker and every service, supervised, and show where they listen."""
    spine = _settings(home, port_offset, config)
    kafka = load_settings(KafkaSettings)
    existing = _running_state(spine)
    if existing is not None:
        console.print(
            f"A spine is already running from {spine.home} (supervisor pid {existing.supervisor_pid})."
        )
        _print_rows(_rows(existing), "Data Spine")
        return
    routes_file = load_settings(CdcSettings).routes_file
    planned = planned_services(embedded_broker=not kafka.bootstrap, cdc=routes_file is not None)
    for spec in planned:
        if missing_module(spec.extra) is not None:
            hint = " (or set SPINE_KAFKA_BOOTSTRAP to an external broker)" if spec is BROKER else ""
            raise ExtraMissingError("spine up", spec.extra, hint)
    if routes_file is not None:  # a bad route file is one line here, before anything starts
        from cdc.routes import load_routes

        load_routes(routes_file)
    check_ports(spine, planned)
    spine.logs_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SPINE_HOME=str(spine.home))
    with (spine.logs_dir / "supervisor.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spine.runtime.supervisor"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stop = _StopForwarder(proc)
    stop.install()  # Ctrl-C while the spine starts stops it cleanly too, not with a traceback
    state = _wait_started(spine, proc, timeout, stop)
    _print_rows(_rows(state), "Data Spine")
    token_file = spine.home / "auth" / ADMIN_TOKEN_FILE
    console.print(f"Logs: {spine.logs_dir}   Admin token: {token_file}")
    if detach:
        stop.uninstall()
        return
    console.print("Running in the foreground; press Ctrl-C to stop.")
    _stopped(proc.wait())


class _StopForwarder:
    """Turn SIGINT/SIGTERM into a SIGTERM for the supervisor, which stops every service in order."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.requested = False

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._forward)

    def uninstall(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL if signum == signal.SIGTERM else signal.default_int_handler)

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        self.proc.send_signal(signal.SIGTERM)


def _stopped(code: int) -> None:
    err_console.print("The spine has stopped.")
    if code not in (0, -signal.SIGTERM):
        raise SystemExit(code)


def _wait_started(
    spine: SpineSettings, proc: subprocess.Popen[bytes], timeout: float, stop: _StopForwarder
) -> SpineState:
    deadline = time.monotonic() + timeout
    with console.status("Starting the spine…") as status:
        while True:
            if stop.requested:
                status.stop()
                _stopped(proc.wait(60))
                raise SystemExit(0)
            state = read_state(spine.run_dir)
            mine = state is not None and state.supervisor_pid == proc.pid
            if mine and state is not None:
                starting = [s.name for s in state.services if s.pid is not None]
                status.update(f"Starting the spine… {', '.join(starting) or 'broker'}")
                if state.status == "running":
                    return state
                if state.status == "failed":
                    proc.wait(30)
                    fail(state.error or "the spine failed to start", ExitCode(state.exit_code or 3))
            if proc.poll() is not None:
                if mine and state is not None and state.error:
                    fail(state.error, ExitCode(state.exit_code or 3))
                fail(
                    f"the supervisor exited with code {proc.returncode}; see {spine.logs_dir}/supervisor.log",
                    ExitCode.UNAVAILABLE,
                )
            if time.monotonic() > deadline:
                proc.terminate()
                proc.wait(60)
                raise UnavailableError(
                    f"the spine was not healthy within {timeout:.0f}s; see {spine.logs_dir}"
                )
            time.sleep(0.1)


@handle_errors
def status(
    as_json: bool = typer.Option(
        False,
        "--json",
        help="One object per service: name, url, pid, healthy, status, reason, outbox_pending.",
    ),
    home: Path | None = HOME_OPTION,
) -> None:
    """Show every service, its URL, pid and health. Exit 1 if any is unhealthy, 3 if none is running."""
    spine = _settings(home)
    state = _running_state(spine)
    if state is None:
        if as_json:
            print_json([])
        fail(f"no spine is running from {spine.home}", ExitCode.UNAVAILABLE)
    rows = _rows(state)
    if as_json:
        print_json(rows)
    else:
        _print_rows(rows, f"Data Spine ({state.status})")
    if not all(r["healthy"] for r in rows):
        raise SystemExit(int(ExitCode.REFUSED))


@handle_errors
def down(home: Path | None = HOME_OPTION) -> None:
    """Stop what ``spine up`` started (by recorded pid and start time) and nothing else."""
    spine = _settings(home)
    state = read_state(spine.run_dir)
    if state is None:
        console.print(f"Nothing to stop: no spine was started from {spine.home}.")
        return
    if signal_process(state.supervisor_pid, state.supervisor_started_at, signal.SIGTERM):
        with console.status("Stopping the spine…"):
            wait_gone(state.supervisor_pid, state.supervisor_started_at, 60.0)
    leftovers = []
    for service in state.services:
        if signal_process(service.pid, service.started_at, signal.SIGTERM):
            if not wait_gone(service.pid, service.started_at, 10.0):
                signal_process(service.pid, service.started_at, signal.SIGKILL)
            leftovers.append(service.name)
    if is_same_process(state.supervisor_pid, state.supervisor_started_at):
        signal_process(state.supervisor_pid, state.supervisor_started_at, signal.SIGKILL)
        wait_gone(state.supervisor_pid, state.supervisor_started_at, 10.0)
    state_path(spine.run_dir).unlink(missing_ok=True)
    extra = f" (also stopped stray {', '.join(leftovers)})" if leftovers else ""
    console.print(f"Stopped the spine from {spine.home}{extra}.")


__all__ = ["down", "status", "up"]
