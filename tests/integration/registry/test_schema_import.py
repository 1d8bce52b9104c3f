"""``spine schema import --from URL`` copies a live registry (a second ``python -m registry`` process)
with ids and versions kept; a re-run copies nothing; ``export``/``import FILE`` round-trip a JSON dump."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cli.main import app
from spine.auth import Role, TokenStore
from spine.broker import free_port
from tests.integration.registry.conftest import build_app, make_tokens, serve_in_thread

pytestmark = pytest.mark.integration


@dataclass
class Registry:
    url: str
    admin: str

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.admin}"}, timeout=10)


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Registry]:
    """A registry in its own process (``python -m registry``) on a free port, with an admin token."""
    home = tmp_path / "source"
    admin = TokenStore(home / "auth" / "tokens.json").issue(Role.ADMIN)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env |= {"SPINE_HOME": str(home), "SPINE_REGISTRY_PORT": str(port)}
    log = tmp_path / "source.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "registry"], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"source registry did not start: {log.read_text()}")
        yield Registry(url, admin)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Registry]:
    home = tmp_path / "target"
    tokens = make_tokens(home)
    url, server, thread = serve_in_thread(build_app(home))
    try:
        yield Registry(url, tokens.admin)
    finally:
        server.should_exit = True
        thread.join(10)


def avro(name: str, *fields: str) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": "com.example",
            "fields": [{"name": f, "type": ["null", "string"], "default": None} for f in fields],
        }
    )


def seed(source: Registry) -> None:
    """Versions whose ids are not 1..n per subject: interleaved subjects, a reference and a purged id."""
    with source.http() as http:

        def post(subject: str, body: dict[str, Any]) -> None:
            assert http.post(f"/subjects/{subject}/versions", json=body).status_code == 200

        post("customers-value", {"schema": avro("Customer", "id")})
        post("gone-value", {"schema": avro("Gone", "x")})
        post("orders-value", {"schema": avro("Order", "id")})
        post("customers-value", {"schema": avro("Customer", "id", "email")})
        ref = {"name": "com.example.Customer", "subject": "customers-value", "version": 2}
        order = {
            "type": "record",
            "name": "Order",
            "namespace": "com.example",
            "fields": [
                {"name": "id", "type": ["null", "string"], "default": None},
                {"name": "customer", "type": ["null", "com.example.Customer"], "default": None},
            ],
        }
        post("orders-value", {"schema": json.dumps(order), "references": [ref]})
        assert http.delete("/subjects/gone-value").status_code == 200
        assert http.delete("/subjects/gone-value?permanent=true").status_code == 200


def versions(registry: Registry) -> dict[tuple[str, int], tuple[int, str, list[Any]]]:
    found: dict[tuple[str, int], tuple[int, str, list[Any]]] = {}
    with registry.http() as http:
        for subject in http.get("/subjects").json():
            for number in http.get(f"/subjects/{subject}/versions").json():
                item = http.get(f"/subjects/{subject}/versions/{number}").json()
                found[(subject, number)] = (item["id"], item["schema"], item.get("references", []))
    return found


def spine(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_import_from_a_live_registry_keeps_ids_and_versions_and_a_rerun_is_idempotent(
    source: Registry, target: Registry
) -> None:
    seed(source)
    expected = versions(source)
    assert sorted(i for i, _, _ in expected.values()) == [1, 3, 4, 5]  # id 2 was purged with gone-value
    args = (
        "schema",
        "import",
        "--from",
        source.url,
        "--from-token",
        source.admin,
        "--url",
        target.url,
        "--token",
        target.admin,
        "--json",
    )
    first = spine(*args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"copied": 4, "present": 0}
    assert versions(target) == expected
    again = spine(*args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.output) == {"copied": 0, "present": 4}
    assert versions(target) == expected
    with target.http() as http:
        # Subjects are back in the mode they had; new registrations get ids above the imported ones.
        assert http.get("/mode/orders-value").json()["error_code"] == 40409
        fresh = http.post("/subjects/new-value/versions", json={"schema": avro("New", "a")}).json()
        assert fresh["id"] == 6


def test_export_and_import_of_a_dump_round_trip(source: Registry, target: Registry, tmp_path: Path) -> None:
    seed(source)
    dump = tmp_path / "dump.json"
    exported = spine("schema", "export", str(dump), "--url", source.url, "--token", source.admin)
    assert exported.exit_code == 0, exported.output
    assert "exported 4 version(s) of 2 subject(s)" in exported.output
    imported = spine("schema", "import", str(dump), "--url", target.url, "--token", target.admin)
    assert imported.exit_code == 0, imported.output
    assert "imported 4 version(s); 0 already present" in imported.output
    assert versions(target) == versions(source)


def test_a_dump_with_a_bad_field_is_refused_in_one_line(target: Registry, tmp_path: Path) -> None:
    dump = tmp_path / "bad.json"
    dump.write_text(
        json.dumps({"format": "spine-schema-dump/1", "versions": [{"subject": "a", "version": "1"}]})
    )
    result = spine("schema", "import", str(dump), "--url", target.url, "--token", target.admin)
    assert result.exit_code == 2
    assert f"{dump}: versions[0]: field 'version' is missing or not a int" in result.output.replace("\n", "")


def test_an_id_clash_in_the_target_is_refused_naming_the_version(source: Registry, target: Registry) -> None:
    seed(source)
    with target.http() as http:
        assert (
            http.post("/subjects/other-value/versions", json={"schema": avro("Other", "q")}).json()["id"] == 1
        )
    result = spine("schema", "import", "--from", source.url, "--url", target.url, "--token", target.admin)
    assert result.exit_code == 2
    assert "subject 'customers-value' version 1 (id 1)" in result.output.replace("\n", "")
    assert "Overwrite new schema with id 1" in result.output.replace("\n", "")
