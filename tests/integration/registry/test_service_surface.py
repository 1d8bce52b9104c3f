"""Readiness, metrics, OpenAPI, lint warnings and tags on every schema type."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.fixtures.postgres import PostgresServer
from tests.integration.registry.conftest import build_app, make_tokens

pytestmark = pytest.mark.integration

PROTO = """syntax = "proto3";
package shop.v1;

import "confluent/meta.proto";

message Customer {
  string customer_id = 1 [(confluent.field_meta).tags = "PUBLIC"];
  string email = 2 [(confluent.field_meta).tags = "PII.email"];
}
"""
JSON_SCHEMA = json.dumps(
    {
        "type": "object",
        "title": "Customer",
        "properties": {
            "customer_id": {"type": "string", "confluent:tags": ["PUBLIC"]},
            "email": {"type": "string", "confluent:tags": ["PII.email"]},
        },
    }
)


def test_ready_turns_unavailable_when_the_database_goes_away(
    tmp_path: Path, postgres_server: PostgresServer, database_factory: Callable[[], str]
) -> None:
    url = database_factory()
    with TestClient(build_app(tmp_path, database_url=url), raise_server_exceptions=False) as client:
        assert client.get("/health/ready").status_code == 200
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        failed = client.get("/subjects")
        assert (failed.status_code, failed.json()["error_code"]) == (500, 50001)


def test_metrics_and_openapi_describe_the_service(client: TestClient) -> None:
    client.get("/subjects")
    assert "spine_http_requests_total" in client.get("/metrics").text
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/schemas/{subject}", "/schemas/{subject}/rollback", "/subjects/{subject}/versions"):
        assert path in paths


def test_lint_warnings_are_reported_without_blocking(client: TestClient) -> None:
    schema = json.dumps({"type": "record", "name": "lower", "fields": [{"name": "Id", "type": "string"}]})
    response = client.post("/schemas/warn-value", json={"schema": schema})
    assert response.status_code == 200, response.text
    findings = response.json()["lint"]
    assert findings
    assert all(f["severity"] == "warn" for f in findings)
    assert any(f["path"] for f in findings)


@pytest.mark.parametrize(("schema_type", "text"), [("PROTOBUF", PROTO), ("JSON", JSON_SCHEMA)])
def test_tags_are_listed_for_protobuf_and_json_schema(
    client: TestClient, schema_type: str, text: str
) -> None:
    created = client.post("/schemas/cust-value", json={"schema": text, "schemaType": schema_type})
    assert created.status_code == 200, created.text
    fields = client.get("/schemas/cust-value/versions/latest/tags").json()["fields"]
    by_path = {f["path"]: f["tags"] for f in fields}
    assert by_path["email"] == ["PII.email"]
    assert by_path["customer_id"] == ["PUBLIC"]


def test_unknown_lint_rule_is_refused(tmp_path: Path) -> None:
    tokens = make_tokens(tmp_path)
    with TestClient(build_app(tmp_path)) as client:
        response = client.put("/lint", json={"no.such-rule": "error"}, headers=tokens.header("admin"))
    assert response.status_code == 422
    assert response.json()["error_code"] == 42231
