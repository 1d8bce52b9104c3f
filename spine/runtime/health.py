"""Health probes used by the supervisor and ``spine status``: a metadata request, ``/health/ready``, or a
worker's heartbeat file."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import httpx

from spine.kafka.admin import Admin
from spine.kafka.errors import KafkaClientError
from spine.runtime.heartbeat import judge, read_heartbeat
from spine.settings import KafkaSettings

_QUIET = {"log_level": 2}


def broker_healthy(bootstrap: str, timeout: float = 2.0) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=min(timeout, 0.5)):
            pass
    except (OSError, ValueError):
        return False
    try:
        Admin(KafkaSettings(bootstrap=bootstrap), client_id="spine-probe", overrides=_QUIET).ping(timeout)
    except KafkaClientError:
        return False
    return True


def http_healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{url}/health/ready", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def wait_http_ready(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> bool:
    """Poll ``url``'s /health/ready until it answers 200 (True), ``timeout`` passes or ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        if http_healthy(url, timeout=1.0):
            return True
        time.sleep(0.05)
    return False


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # answering, but falling behind (e.g. an outbox relay with an old backlog)
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class Health:
    status: HealthStatus
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is HealthStatus.HEALTHY


def http_health(url: str, timeout: float = 2.0) -> Health:
    """Ask ``url``'s /health/ready: 200 is healthy; a 503 whose body says "degraded" is degraded."""
    try:
        response = httpx.get(f"{url}/health/ready", timeout=timeout)
    except httpx.HTTPError as exc:
        return Health(HealthStatus.DOWN, f"unreachable: {type(exc).__name__}")
    if response.status_code == 200:
        return Health(HealthStatus.HEALTHY)
    try:
        body = response.json()
    except ValueError:
        body = {}
    problems = body.get("problems") if isinstance(body, dict) else None
    reason = "; ".join(str(p) for p in problems) if isinstance(problems, list) and problems else None
    if isinstance(body, dict) and body.get("status") == "degraded":
        return Health(HealthStatus.DEGRADED, reason)
    return Health(HealthStatus.DOWN, reason or f"/health/ready answered {response.status_code}")


def worker_health(heartbeat_file: str) -> Health:
    """A worker's health from its heartbeat file (see :mod:`spine.runtime.heartbeat`)."""
    ok, reason = judge(read_heartbeat(Path(heartbeat_file)), time.time())
    return Health(HealthStatus.HEALTHY) if ok else Health(HealthStatus.DOWN, reason)


def health(kind: str, url: str, timeout: float = 2.0) -> Health:
    if kind == "worker":  # url is the worker's heartbeat file
        return worker_health(url)
    if kind == "broker":
        ok = broker_healthy(url, timeout)
        return Health(HealthStatus.HEALTHY) if ok else Health(HealthStatus.DOWN, "no metadata answer")
    return http_health(url, timeout)


def healthy(kind: str, url: str, timeout: float = 2.0) -> bool:
    return health(kind, url, timeout).ok


_OUTBOX_PENDING = re.compile(r"^spine_outbox_pending\{[^}]*\}\s+([0-9.eE+-]+)\s*$", re.MULTILINE)


def outbox_pending(url: str, timeout: float = 2.0) -> int | None:
    """Rows waiting in the service's outboxes, from its ``/metrics``; None when it has none or is down."""
    try:
        response = httpx.get(f"{url}/metrics", timeout=timeout)
    except httpx.HTTPError:
        return None
    values = _OUTBOX_PENDING.findall(response.text) if response.status_code == 200 else []
    return int(sum(float(v) for v in values)) if values else None


__all__ = [
    "Health",
    "HealthStatus",
    "broker_healthy",
    "health",
    "healthy",
    "http_health",
    "http_healthy",
    "outbox_pending",
    "wait_http_ready",
    "worker_health",
]
