"""Fixtures for registry integration tests: an app on a fresh SQLite file, served by uvicorn in a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from registry.app import create_app
from spine.auth import Role, TokenStore
from spine.broker import free_port
from spine.runtime.health import wait_http_ready
from spine.settings import KafkaSettings, RegistrySettings, SpineSettings


@dataclass
class Tokens:
    admin: str
    producer: str
    consumer: str

    def header(self, role: str = "producer") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@dataclass
class RunningRegistry:
    url: str
    app: FastAPI
    tokens: Tokens
    home: Path


def make_tokens(home: Path) -> Tokens:
    store = TokenStore(home / "auth" / "tokens.json")
    return Tokens(store.issue(Role.ADMIN), store.issue(Role.PRODUCER), store.issue(Role.CONSUMER))


def build_app(
    home: Path,
    kafka: KafkaSettings | None = None,
    database_url: str | None = None,
    residency_url: str | None = None,
) -> FastAPI:
    return create_app(
        RegistrySettings(database_url=database_url, residency_url=residency_url),
        spine=SpineSettings(home=home),
        kafka=kafka,
    )


@pytest.fixture
def tokens(tmp_path: Path) -> Tokens:
    return make_tokens(tmp_path)


@pytest.fixture
def client(tmp_path: Path, tokens: Tokens) -> Iterator[TestClient]:
    """The app in-process (no Kafka: events stay in the outbox); requests default to a producer token."""
    with TestClient(build_app(tmp_path), raise_server_exceptions=False) as test_client:
        test_client.headers.update(tokens.header("producer"))
        yield test_client


def serve_in_thread(app: FastAPI) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="registry-uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    if not wait_http_ready(url, 20):
        raise RuntimeError("registry did not become ready")
    return url, server, thread


@pytest.fixture
def registry_server(
    tmp_path: Path, tokens: Tokens, kafka_settings: KafkaSettings
) -> Iterator[RunningRegistry]:
    """A real HTTP registry on a free port whose outbox relay publishes to the session broker."""
    app = build_app(tmp_path, kafka_settings)
    url, server, thread = serve_in_thread(app)
    try:
        yield RunningRegistry(url, app, tokens, tmp_path)
    finally:
        server.should_exit = True
        thread.join(10)
