"""The registry's fast paths keep their answers: cached schema bodies, remembered schemas, metrics labels."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.conftest import Tokens
from tests.integration.registry.test_confluent_api import AMOUNT, CT, ID, NOTE, record, register

pytestmark = pytest.mark.integration


def requests_counted(client: TestClient, method: str, status: int) -> float:
    text = client.get("/metrics").text
    pattern = rf'spine_http_requests_total\{{method="{method}",service="registry",status="{status}"\}} (\S+)'
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


def test_a_cached_schema_by_id_answers_byte_for_byte_as_the_first_read(client: TestClient) -> None:
    created = register(client, "cache-value", record(ID))
    first = client.get(f"/schemas/ids/{created['id']}")
    counted = requests_counted(client, "GET", 200)
    second = client.get(f"/schemas/ids/{created['id']}")
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert second.headers["content-type"].startswith(CT)
    assert json.loads(second.json()["schema"])["name"] == "Order"
    with_subject = client.get(f"/schemas/ids/{created['id']}?subject=cache-value")
    assert with_subject.content == first.content
    assert requests_counted(client, "GET", 200) == counted + 3  # the /metrics read and two cached reads
    assert client.get(f"/schemas/ids/{created['id']}/schema").json()["name"] == "Order"


def test_a_schema_stays_readable_by_id_after_its_subject_is_soft_deleted(client: TestClient) -> None:
    created = register(client, "gone-value", record(ID))
    assert client.get(f"/schemas/ids/{created['id']}").status_code == 200
    assert client.delete("/subjects/gone-value").json() == [1]
    again = client.get(f"/schemas/ids/{created['id']}")
    assert again.status_code == 200
    assert json.loads(again.json()["schema"])["name"] == "Order"


def test_the_serialized_format_is_not_answered_from_the_plain_body_cache(client: TestClient) -> None:
    proto = 'syntax = "proto3";\npackage shop.v1;\n\nmessage Customer {\n  string customer_id = 1;\n}\n'
    created = register(client, "proto-value", proto, schemaType="PROTOBUF")
    plain = client.get(f"/schemas/ids/{created['id']}").json()
    serialized = client.get(f"/schemas/ids/{created['id']}?format=serialized").json()
    assert "message Customer" in plain["schema"]
    assert serialized["schema"] != plain["schema"]
    assert "message Customer" not in serialized["schema"]


def test_checks_after_a_remembered_schema_use_it_and_read_fresh_settings(
    client: TestClient, tokens: Tokens
) -> None:
    register(client, "chain-value", record(ID))
    register(client, "chain-value", record(ID, NOTE))
    incompatible = client.post("/subjects/chain-value/versions", json={"schema": record(ID, NOTE, AMOUNT)})
    assert (incompatible.status_code, incompatible.json()["error_code"]) == (409, 409)
    admin = tokens.header("admin")
    assert client.put("/mode/chain-value", json={"mode": "READONLY"}, headers=admin).status_code == 200
    refused = client.post("/subjects/chain-value/versions", json={"schema": record(ID, NOTE, name="Other")})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
    assert client.get("/subjects/chain-value/versions").json() == [1, 2]


def test_metrics_count_each_request_under_its_status(client: TestClient) -> None:
    before_missing = requests_counted(client, "GET", 404)
    before_invalid = requests_counted(client, "POST", 422)
    before_refused = requests_counted(client, "POST", 413)
    assert client.get("/schemas/ids/4242").status_code == 404
    assert client.post("/subjects/bad-value/versions", json={"schema": "{"}).status_code == 422
    oversized = client.post("/subjects/big-value/versions", content=b"x" * (1024 * 1024 + 1))
    assert oversized.status_code == 413
    assert requests_counted(client, "GET", 404) == before_missing + 1
    assert requests_counted(client, "POST", 422) == before_invalid + 1
    assert requests_counted(client, "POST", 413) == before_refused + 1


def test_a_transitive_check_still_refuses_a_break_with_an_older_structure(
    client: TestClient, tokens: Tokens
) -> None:
    level = {"compatibility": "BACKWARD_TRANSITIVE"}
    assert client.put("/config/trans-value", json=level, headers=tokens.header("admin")).status_code == 200
    amount = {"name": "amount", "type": "long", "default": 0, "doc": "Amount."}
    register(client, "trans-value", record(ID, amount))
    register(client, "trans-value", record(ID, {**amount, "doc": "Amount in cents."}))
    register(client, "trans-value", record(ID))
    as_text = {"name": "amount", "type": "string", "default": "", "doc": "Amount."}
    refused = client.post("/subjects/trans-value/versions", json={"schema": record(ID, as_text)})
    assert (refused.status_code, refused.json()["error_code"]) == (409, 409)
    problems = refused.json()["problems"]
    assert len(problems) == len({(p["path"], p["message"]) for p in problems}) >= 1
    assert any("amount" in p["path"] for p in problems)
    accepted = client.post("/subjects/trans-value/versions", json={"schema": record(ID, amount, NOTE)})
    assert accepted.status_code == 200, accepted.text
