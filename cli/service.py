"""How commands talk to a spine service: its URL, the bearer token, and HTTP errors turned into exit codes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from spine.errors import ExitCode, SpineError, UnavailableError
from spine.runtime.state import is_same_process, read_state
from spine.runtime.supervisor import ADMIN_TOKEN_FILE
from spine.settings import KafkaSettings, SpineSettings, load_settings


class ServiceRefusedError(SpineError):
    """The service understood the request and said no; ``body`` is its error document."""

    def __init__(self, service: str, status: int, body: dict[str, Any], exit_code: ExitCode) -> None:
        self.status = status
        self.body = body
        self.exit_code = exit_code
        code = body.get("error_code", status)
        super().__init__(f"{service} refused ({code}): {body.get('message', '')}")


def default_url(service: str, env_var: str) -> str:
    """``$ENV_VAR``, else the URL the running ``spine up`` recorded, else the default port plus the offset."""
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit.rstrip("/")
    spine = load_settings(SpineSettings)
    state = read_state(spine.run_dir)
    if state is not None and is_same_process(state.supervisor_pid, state.supervisor_started_at):
        for recorded in state.services:
            if recorded.name == service:
                return recorded.url
    return f"http://{spine.host}:{spine.port(service)}"


def default_bootstrap() -> str:
    """``SPINE_KAFKA_BOOTSTRAP``, else the broker the running ``spine up`` recorded, else the default port."""
    kafka = load_settings(KafkaSettings)
    if kafka.bootstrap:
        return kafka.bootstrap
    spine = load_settings(SpineSettings)
    state = read_state(spine.run_dir)
    if state is not None and is_same_process(state.supervisor_pid, state.supervisor_started_at):
        for recorded in state.services:
            if recorded.name == "broker":
                return recorded.url
    return f"{spine.host}:{spine.port('broker')}"


def default_token() -> str | None:
    """``$SPINE_TOKEN``, else the development admin token ``spine up`` wrote in ``$SPINE_HOME``."""
    token = os.environ.get("SPINE_TOKEN", "").strip()
    if token:
        return token
    path: Path = load_settings(SpineSettings).home / "auth" / ADMIN_TOKEN_FILE
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


@dataclass
class ServiceClient:
    """A small JSON-over-HTTP client; ``refusal_codes`` maps error codes to exit 1 (a check said no)."""

    service: str
    url: str
    token: str | None = None
    timeout: float = 10.0
    refusal_codes: frozenset[int] = frozenset()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx.request(
                method, f"{self.url}{path}", headers=headers, timeout=self.timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            raise UnavailableError(f"{self.service} unreachable at {self.url}: {exc}") from exc
        if response.status_code >= 500:
            raise UnavailableError(
                f"{self.service} at {self.url} failed with HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        if response.status_code >= 400:
            if not isinstance(body, dict):
                body = {"message": str(body)}
            code = int(body.get("error_code", response.status_code))
            exit_code = ExitCode.REFUSED if code in self.refusal_codes else ExitCode.USAGE
            raise ServiceRefusedError(self.service, response.status_code, body, exit_code)
        return body


__all__ = ["ServiceClient", "ServiceRefusedError", "default_bootstrap", "default_token", "default_url"]
