"""Run the residency gate in-process (uvicorn on a free port, in a thread) for integration tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from residency_gate.app import create_app
from spine.auth import Role, TokenStore
from spine.broker import free_port
from spine.settings import KafkaSettings, OutboxSettings, ResidencyGateSettings, SpineSettings

MATRIX = Path(__file__).with_name("matrix.yaml")


@dataclass
class Gate:
    """A running gate plus a token for each role."""

    url: str
    home: Path
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    tokens: dict[Role, str] = field(default_factory=dict)

    def headers(self, role: Role | None = Role.ADMIN) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def client(self, role: Role | None = Role.ADMIN) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(role), timeout=30.0)

    def get(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> httpx.Response:
        with self.client(role) as client:
            return client.get(path, **kwargs)

    def post(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> httpx.Response:
        with self.client(role) as client:
            return client.post(path, **kwargs)

    def delete(self, path: str, role: Role | None = Role.ADMIN, **kwargs: Any) -> httpx.Response:
        with self.client(role) as client:
            return client.delete(path, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def start_gate(
    home: Path,
    *,
    database_url: str | None = None,
    kafka: KafkaSettings | None = None,
    policy_file: Path | None = MATRIX,
    checkpoint_every: int = 1000,
    checkpoint_seconds: float = 60.0,
    port: int | None = None,
    signing_key: str | None = None,
    registry_url: str | None = None,
    outbox: OutboxSettings | None = None,
    registry_version_ttl: float = 60.0,
) -> Gate:
    spine = SpineSettings(home=home)
    settings = ResidencyGateSettings(
        database_url=database_url,
        policy_file=policy_file,
        checkpoint_every=checkpoint_every,
        checkpoint_seconds=checkpoint_seconds,
        signing_key=signing_key,
        registry_url=registry_url,
        registry_version_ttl=registry_version_ttl,
    )
    app = create_app(
        settings, spine=spine, kafka=kafka or KafkaSettings(bootstrap=None), outbox_settings=outbox
    )
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"gate-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the residency gate did not start")
        time.sleep(0.02)
    store = TokenStore(spine.tokens_path)
    tokens = {role: store.issue(role, f"test-{role.value}") for role in Role}
    return Gate(f"http://127.0.0.1:{port}", home, app, server, thread, tokens)
