"""Health probes used by the supervisor and ``spine status``: a metadata request or ``/health/ready``."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx

from spine.kafka.admin import Admin
from spine.kafka.errors import KafkaClientError
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


def healthy(kind: str, url: str, timeout: float = 2.0) -> bool:
    return broker_healthy(url, timeout) if kind == "broker" else http_healthy(url, timeout)


__all__ = ["broker_healthy", "healthy", "http_healthy", "wait_http_ready"]
