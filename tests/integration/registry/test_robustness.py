"""Bad input never causes a server error: schemathesis over the OpenAPI, plus hand-picked bad requests."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.integration.registry.conftest import build_app, make_tokens

pytestmark = pytest.mark.integration


_HOME = Path(tempfile.mkdtemp(prefix="spine-registry-schemathesis-"))
atexit.register(shutil.rmtree, _HOME, True)
_ADMIN = make_tokens(_HOME).header("admin")
schema = schemathesis.openapi.from_asgi("/openapi.json", build_app(_HOME))


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_with_a_server_error(case: Any) -> None:
    response = case.call(headers=_ADMIN)
    case.validate_response(response, checks=[not_a_server_error])


def test_malformed_and_unknown_schemas_give_4xx(client: TestClient) -> None:
    bodies: list[dict[str, Any]] = [
        {"schema": "{"},
        {"schema": '{"type": "record"}'},
        {"schema": 'syntax = "proto3"; message {', "schemaType": "PROTOBUF"},
        {"schema": '{"type": 12}', "schemaType": "JSON"},
        {"schema": "{}", "schemaType": "XML"},
        {"schema": 42},
        {"schema": '"string"', "references": [{"name": "a", "subject": "missing", "version": 1}]},
        {},
    ]
    for body in bodies:
        for path in ("/subjects/bad-value/versions", "/schemas/bad-value", "/subjects/bad-value"):
            response = client.post(path, json=body)
            assert 400 <= response.status_code < 500, (path, body, response.text)
            assert isinstance(response.json()["error_code"], int)


def test_wrong_content_type_gives_4xx(client: TestClient) -> None:
    response = client.post(
        "/subjects/ct-value/versions", content=b"schema=1", headers={"Content-Type": "text/plain"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error_code"]


def test_body_over_one_mebibyte_gives_413(client: TestClient) -> None:
    big = json.dumps({"schema": json.dumps({"type": "enum", "name": "E", "symbols": ["A" * 2_000_000]})})
    response = client.post(
        "/subjects/big-value/versions", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error_code"] == 41301


def test_deeply_nested_bodies_and_schemas_give_4xx(client: TestClient) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    body = client.post(
        "/subjects/deep-value/versions", content=nested, headers={"Content-Type": "application/json"}
    )
    assert 400 <= body.status_code < 500
    for schema_type in ("AVRO", "JSON"):
        schema = client.post(
            "/subjects/deep-value/versions",
            json={"schema": "[" * 50_000 + "]" * 50_000, "schemaType": schema_type},
        )
        assert (schema.status_code, schema.json()["error_code"]) == (422, 42201)


def test_control_characters_in_subject_names_give_4xx(client: TestClient) -> None:
    for path in ("/subjects/a%00b/versions", "/schemas/a%01b", "/config/a%1fb"):
        response = client.get(path)
        assert (response.status_code, response.json()["error_code"]) == (422, 42200), path
