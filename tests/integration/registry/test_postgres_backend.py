"""The same app on a real PostgreSQL: registration, id reuse, semver gate and deletion."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.conftest import build_app, make_tokens

pytestmark = pytest.mark.integration

SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Shipment",
        "namespace": "com.example",
        "doc": "A shipment.",
        "fields": [{"name": "id", "type": "string", "doc": "Id."}],
    }
)


def test_registry_runs_on_postgres(tmp_path: Path, database_factory: Callable[[], str]) -> None:
    tokens = make_tokens(tmp_path)
    with TestClient(build_app(tmp_path, database_url=database_factory())) as client:
        client.headers.update(tokens.header("producer"))
        first = client.post("/subjects/ship-value/versions", json={"schema": SCHEMA}).json()
        other = client.post("/subjects/archive-value/versions", json={"schema": SCHEMA}).json()
        assert first["id"] == other["id"]
        published = client.post(
            "/schemas/ship-value", json={"schema": SCHEMA.replace("A shipment.", "Shipped.")}
        )
        assert published.json()["change"] == "PATCH"
        assert published.json()["semver"] == "1.0.1"
        assert client.get("/health/ready").json()["status"] == "ok"
        assert client.delete("/subjects/ship-value").json() == [1, 2]
        assert client.delete("/subjects/ship-value?permanent=true").json() == [1, 2]
        assert client.get("/subjects").json() == ["archive-value"]


def test_nul_characters_are_refused_before_they_reach_postgres(
    tmp_path: Path, database_factory: Callable[[], str]
) -> None:
    tokens = make_tokens(tmp_path)
    with TestClient(build_app(tmp_path, database_url=database_factory())) as client:
        client.headers.update(tokens.header("producer"))
        schema = client.post("/subjects/n-value/versions", json={"schema": SCHEMA.replace("Id.", "I\x00d.")})
        assert (schema.status_code, schema.json()["error_code"]) == (422, 42201)
        subject = client.get("/subjects/n%00x/versions")
        assert (subject.status_code, subject.json()["error_code"]) == (422, 42200)


def test_ids_assigned_after_an_import_continue_above_it_on_postgres(
    tmp_path: Path, database_factory: Callable[[], str]
) -> None:
    """PostgreSQL's id sequence does not follow an explicit id; the registry moves it past each import."""
    tokens = make_tokens(tmp_path)
    admin = tokens.header("admin")
    with TestClient(build_app(tmp_path, database_url=database_factory())) as client:
        client.headers.update(tokens.header("producer"))
        assert client.put("/mode", json={"mode": "IMPORT"}, headers=admin).status_code == 200
        imported = client.post(
            "/subjects/old-value/versions", json={"schema": SCHEMA, "id": 500, "version": 9}
        )
        assert imported.json() == {"id": 500, "version": 9}
        assert client.put("/mode", json={"mode": "READWRITE"}, headers=admin).status_code == 200
        fresh = client.post("/subjects/new-value/versions", json={"schema": SCHEMA.replace("Id.", "Key.")})
        assert fresh.json() == {"id": 501, "version": 1}
