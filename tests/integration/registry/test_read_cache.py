"""The read cache answers schema and version reads from memory and stays true to the database: after this
process's deletes, after a restart (warmed), under its byte bound, and after writes by a second registry
process on the same PostgreSQL database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from registry.app import create_app
from spine.broker import free_port
from spine.runtime.health import wait_http_ready
from spine.settings import RegistrySettings, SpineSettings
from tests.integration.registry.conftest import Tokens, make_tokens
from tests.integration.registry.test_confluent_api import ID, NOTE, record, register

pytestmark = pytest.mark.integration


def metric(client: TestClient | httpx.Client, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", client.get("/metrics").text, re.MULTILINE)
    assert found, name
    return float(found.group(1))


def open_client(home: Path, tokens: Tokens, **settings: object) -> TestClient:
    app = create_app(RegistrySettings(**settings), spine=SpineSettings(home=home))  # type: ignore[arg-type]
    client = TestClient(app, raise_server_exceptions=False)
    client.headers.update(tokens.header("producer"))
    return client


def field(n: int) -> dict[str, object]:
    return {"name": f"f{n}", "type": ["null", "string"], "default": None, "doc": f"Field {n}."}


def test_a_version_from_memory_is_byte_for_byte_the_routed_answer(client: TestClient) -> None:
    register(client, "same-value", record(ID))
    register(client, "same-value", record(ID, NOTE))
    for version in ("1", "2", "latest", "-1"):
        fast = client.get(f"/subjects/same-value/versions/{version}")
        routed = client.get(f"/subjects/same-value/versions/{version}?deleted=false")
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content
        assert fast.headers["content-type"] == routed.headers["content-type"]
    assert client.get("/subjects/same-value/versions/latest").json()["version"] == 2


def test_deletes_reach_the_cached_versions_at_once_and_ids_stay_readable(client: TestClient) -> None:
    first = register(client, "del-value", record(ID))
    register(client, "del-value", record(ID, NOTE))
    assert client.get("/subjects/del-value/versions/latest").json()["version"] == 2
    assert client.get("/subjects/del-value/versions/2").status_code == 200
    assert client.delete("/subjects/del-value/versions/2").json() == 2
    assert client.get("/subjects/del-value/versions/latest").json()["version"] == 1
    assert client.get("/subjects/del-value/versions/2").json()["error_code"] == 40402
    assert client.delete("/subjects/del-value").json() == [1]
    assert client.get("/subjects/del-value/versions/latest").json()["error_code"] == 40401
    assert client.get("/subjects/del-value/versions/1").json()["error_code"] == 40401
    assert client.delete("/subjects/del-value?permanent=true").json() == [1, 2]
    assert client.get("/subjects/del-value/versions/1").json()["error_code"] == 40401
    assert client.get(f"/schemas/ids/{first['id']}").status_code == 200
    again = register(client, "del-value", record(ID, field(7)))
    assert client.get("/subjects/del-value/versions/latest").json()["id"] == again["id"]


def test_a_restarted_registry_answers_from_memory_it_warmed(tmp_path: Path) -> None:
    tokens = make_tokens(tmp_path)
    with open_client(tmp_path, tokens) as client:
        ids = [int(str(register(client, f"warm{n}-value", record(ID, field(n)))["id"])) for n in range(20)]
    with open_client(tmp_path, tokens) as client:
        assert metric(client, "spine_registry_cache_warmed_schemas") == 20
        assert metric(client, "spine_registry_cache_entries") == 40  # 20 bodies and 20 subjects
        assert metric(client, "spine_registry_startup_seconds") > 0
        misses = metric(client, "spine_registry_cache_misses")
        for n, schema_id in enumerate(ids):
            assert client.get(f"/schemas/ids/{schema_id}").status_code == 200
            assert client.get(f"/subjects/warm{n}-value/versions/latest").json()["id"] == schema_id
        assert metric(client, "spine_registry_cache_misses") == misses
        assert metric(client, "spine_registry_cache_hit_ratio") == 1.0
        assert metric(client, "process_resident_memory_bytes") > 0


def test_the_byte_bound_holds_and_reads_past_it_still_answer(tmp_path: Path) -> None:
    tokens = make_tokens(tmp_path)
    with open_client(tmp_path, tokens) as client:
        ids = [int(str(register(client, f"b{n}-value", record(ID, field(n)))["id"])) for n in range(30)]
        size = len(client.get(f"/schemas/ids/{ids[0]}").content)
    bound = 10 * (size + 400)
    with open_client(tmp_path, tokens, read_cache_bytes=bound) as client:
        assert metric(client, "spine_registry_cache_max_bytes") == bound
        for schema_id in ids:
            assert json.loads(client.get(f"/schemas/ids/{schema_id}").json()["schema"])["name"] == "Order"
        assert metric(client, "spine_registry_cache_bytes") <= bound
        assert metric(client, "spine_registry_cache_entries") < 30
        assert metric(client, "spine_registry_cache_evictions") > 0


# -- two registry processes on one PostgreSQL database ------------------------------------------------


def start_registry(home: Path, database_url: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env |= {
        "SPINE_HOME": str(home),
        "SPINE_REGISTRY_PORT": str(port),
        "SPINE_REGISTRY_DATABASE_URL": database_url,
        "SPINE_REGISTRY_CHANGE_POLL_INTERVAL": "0.1",
        "SPINE_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen([sys.executable, "-m", "registry"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not wait_http_ready(url, 30, proc):
        proc.terminate()
        raise RuntimeError("registry did not start")
    return url, proc


@pytest.fixture
def two_registries(tmp_path: Path, database_factory: Callable[[], str]) -> Iterator[list[httpx.Client]]:
    url = database_factory()
    clients, procs = [], []
    try:
        for name in ("a", "b"):
            home = tmp_path / name
            tokens = make_tokens(home)
            base, proc = start_registry(home, url)
            procs.append(proc)
            clients.append(httpx.Client(base_url=base, headers=tokens.header("producer"), timeout=10))
        yield clients
    finally:
        for client in clients:
            client.close()
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def eventually(read: Callable[[], object], expected: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := read()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen == expected


def test_a_write_by_a_second_process_reaches_the_first_ones_cache(two_registries: list[httpx.Client]) -> None:
    a, b = two_registries
    first = a.post("/subjects/pair-value/versions", json={"schema": record(ID)}).json()
    assert a.get("/subjects/pair-value/versions/latest").json()["version"] == 1
    assert b.get("/subjects/pair-value/versions/latest").json()["version"] == 1
    second = b.post("/subjects/pair-value/versions", json={"schema": record(ID, NOTE)}).json()
    assert a.get(f"/schemas/ids/{second['id']}").json()["schema"] == record(ID, NOTE)
    eventually(lambda: a.get("/subjects/pair-value/versions/latest").json().get("version"), 2)
    assert a.get("/subjects/pair-value/versions/2").json()["id"] == second["id"]
    assert b.delete("/subjects/pair-value/versions/2").json() == 2
    eventually(lambda: a.get("/subjects/pair-value/versions/latest").json().get("version"), 1)
    assert b.delete("/subjects/pair-value").json() == [1]
    eventually(lambda: a.get("/subjects/pair-value/versions/latest").json().get("error_code"), 40401)
    assert a.get(f"/schemas/ids/{first['id']}").status_code == 200
    # Each process learns the counter's value on its next poll, its own writes included.
    eventually(lambda: metric(b, "spine_registry_change_seq"), metric(a, "spine_registry_change_seq"))
