"""``spine cdc register``: the route file's connector PUT to a Kafka Connect REST endpoint.

No Kafka Connect runs on the build machines, so a real HTTP server in this process stands in for its
REST API (the documented ``PUT /connectors/<name>/config`` shape: 201 created, 200 updated, 4xx with
``{"error_code", "message"}``) and records what it received.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from spine.broker import free_port
from spine.kafka import Admin
from spine.settings import KafkaSettings

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).parents[3] / "examples" / "cdc" / "routes.yaml"


class FakeConnect:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.refuse: str | None = None
        self.known: set[str] = set()


@pytest.fixture
def connect() -> Iterator[tuple[str, FakeConnect]]:
    state = FakeConnect()

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.received.append((self.path, body))
            name = self.path.split("/")[2]
            if state.refuse:
                status, answer = 400, {"error_code": 400, "message": state.refuse}
            else:
                status = 200 if name in state.known else 201
                state.known.add(name)
                answer = {"name": name, "config": body, "tasks": [], "type": "source"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def spine(*args: str, bootstrap: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(SHOP_DB_PASSWORD="s3cret", COLUMNS="200")
    if bootstrap:
        env["SPINE_KAFKA_BOOTSTRAP"] = bootstrap
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_register_creates_the_topics_puts_the_connector_config_and_is_idempotent(
    connect: tuple[str, FakeConnect], kafka_settings: KafkaSettings
) -> None:
    url, state = connect
    bootstrap = kafka_settings.bootstrap_or_raise()
    for _ in range(2):
        done = spine("cdc", "register", "--connect", url, "--routes", str(EXAMPLE), bootstrap=bootstrap)
        assert done.returncode == 0, done.stderr
        assert "connector shop registered" in done.stdout
    topics = Admin(kafka_settings).list_topics()
    for table in ("public.customers", "public.orders"):
        assert {f"shop.{table}", f"shop.{table}.dlq"} <= topics
    assert [path for path, _ in state.received] == ["/connectors/shop/config"] * 2
    config = state.received[0][1]
    assert config["connector.class"] == "io.debezium.connector.postgresql.PostgresConnector"
    assert config["database.password"] == "${env:SHOP_DB_PASSWORD}"
    assert "s3cret" not in json.dumps(config)
    assert config["table.include.list"] == r"public\.customers,public\.orders"


def test_a_refusal_is_one_line_exit_1_and_an_unreachable_connect_exit_3(
    connect: tuple[str, FakeConnect],
) -> None:
    url, state = connect
    state.refuse = "Connector configuration is invalid and contains 1 error(s)"
    refused = spine("cdc", "register", "--connect", url, "--routes", str(EXAMPLE))
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert "refused connector shop (HTTP 400): Connector configuration is invalid" in refused.stderr
    down = spine("cdc", "register", "--connect", f"http://127.0.0.1:{free_port()}", "--routes", str(EXAMPLE))
    assert down.returncode == 3
    assert "Kafka Connect unreachable" in down.stderr
    assert "Traceback" not in down.stderr
