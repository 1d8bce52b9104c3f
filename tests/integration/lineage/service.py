"""Run the lineage service in-process (uvicorn on a free port, in a thread) for integration tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from lineage.app import create_app
from spine.auth import Role, TokenStore
from spine.broker import free_port
from spine.settings import KafkaSettings, LineageSettings, SpineSettings


@dataclass
class Lineage:
    url: str
    home: Path
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread
    tokens: dict[Role, str] = field(default_factory=dict)

    def headers(self, role: Role | None = Role.PRODUCER) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=30.0, **kwargs)

    def post(self, path: str, role: Role | None = Role.PRODUCER, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return httpx.post(f"{self.url}{path}", headers=headers, timeout=30.0, **kwargs)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def start_lineage(
    home: Path,
    *,
    database_url: str | None = None,
    kafka: KafkaSettings | None = None,
    topic: str | None = None,
) -> Lineage:
    spine = SpineSettings(home=home)
    app = create_app(
        LineageSettings(database_url=database_url),
        spine=spine,
        kafka=kafka or KafkaSettings(bootstrap=None),
        topic=topic,
    )
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"lineage-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the lineage service did not start")
        time.sleep(0.02)
    store = TokenStore(spine.tokens_path)
    tokens = {role: store.issue(role, f"test-{role.value}") for role in Role}
    return Lineage(f"http://127.0.0.1:{port}", home, app, server, thread, tokens)


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
