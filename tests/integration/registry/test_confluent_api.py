"""The Confluent v1 API over HTTP (in-process app, real SQLite): shapes, codes, auth and lifecycle."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.conftest import Tokens

pytestmark = pytest.mark.integration

CT = "application/vnd.schemaregistry.v1+json"


def record(*fields: Mapping[str, object], name: str = "Order") -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": "com.example",
            "doc": "An order.",
            "fields": list(fields),
        }
    )


ID = {"name": "id", "type": "string", "doc": "Order id."}
AMOUNT = {"name": "amount", "type": "long", "doc": "Amount."}
NOTE = {"name": "note", "type": ["null", "string"], "default": None, "doc": "Note."}


def register(client: TestClient, subject: str, schema: str, **extra: object) -> dict[str, object]:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_register_returns_an_id_and_identical_schemas_share_it_across_subjects(client: TestClient) -> None:
    first = register(client, "orders-value", record(ID))
    again = register(client, "orders-value", record(ID))
    other = register(client, "archive-value", record(ID))
    assert first["id"] == again["id"] == other["id"]
    assert client.get("/subjects/orders-value/versions").json() == [1]
    assert client.get("/subjects").json() == ["archive-value", "orders-value"]


def test_responses_use_the_schema_registry_content_type(client: TestClient) -> None:
    register(client, "s-value", record(ID))
    response = client.get("/subjects/s-value/versions/latest")
    assert response.headers["content-type"].startswith(CT)
    body = response.json()
    assert body["subject"] == "s-value"
    assert body["version"] == 1
    assert json.loads(body["schema"])["name"] == "Order"


def test_octet_stream_and_vendor_content_types_are_accepted(client: TestClient) -> None:
    body = json.dumps({"schema": record(ID)})
    for content_type in (CT, "application/octet-stream", "application/json"):
        response = client.post(
            "/subjects/ct-value/versions", content=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, (content_type, response.text)


def test_incompatible_change_is_refused_with_409_and_each_problem(client: TestClient) -> None:
    register(client, "o-value", record(ID))
    response = client.post("/subjects/o-value/versions", json={"schema": record(ID, AMOUNT)})
    assert response.status_code == 409
    body = response.json()
    assert body["error_code"] == 409
    assert "amount" in body["message"]
    assert body["problems"][0]["path"]


def test_compatible_change_gets_the_next_version(client: TestClient) -> None:
    register(client, "o-value", record(ID))
    second = register(client, "o-value", record(ID, NOTE))
    assert second["version"] == 2
    assert client.get("/subjects/o-value/versions/2").json()["id"] == second["id"]


def test_compatibility_endpoint_lists_messages_when_verbose(client: TestClient) -> None:
    register(client, "c-value", record(ID))
    url = "/compatibility/subjects/c-value/versions/latest?verbose=true"
    bad = client.post(url, json={"schema": record(ID, AMOUNT)}).json()
    good = client.post(url, json={"schema": record(ID, NOTE)}).json()
    assert bad["is_compatible"] is False
    assert any("amount" in m for m in bad["messages"])
    assert good == {"is_compatible": True, "messages": []}


def test_error_codes_follow_confluent(client: TestClient) -> None:
    register(client, "e-value", record(ID))
    assert client.get("/subjects/nope/versions").json()["error_code"] == 40401
    assert client.get("/subjects/e-value/versions/9").json()["error_code"] == 40402
    assert client.get("/schemas/ids/999").json()["error_code"] == 40403
    assert client.get("/subjects/e-value/versions/zero").json()["error_code"] == 42202
    invalid = client.post("/subjects/e-value/versions", json={"schema": "{not json"})
    assert (invalid.status_code, invalid.json()["error_code"]) == (422, 42201)
    unknown = client.post("/subjects/e-value/versions", json={"schema": "{}", "schemaType": "XML"})
    assert (unknown.status_code, unknown.json()["error_code"]) == (422, 42201)


def test_soft_then_permanent_delete_of_a_subject(client: TestClient) -> None:
    register(client, "d-value", record(ID))
    assert client.delete("/subjects/d-value?permanent=true").json()["error_code"] == 40405
    assert client.delete("/subjects/d-value").json() == [1]
    assert client.get("/subjects").json() == []
    assert client.get("/subjects?deleted=true").json() == ["d-value"]
    assert client.delete("/subjects/d-value").json()["error_code"] == 40404
    assert client.delete("/subjects/d-value?permanent=true").json() == [1]
    assert client.get("/subjects?deleted=true").json() == []


def test_version_delete_and_schema_versions_by_id(client: TestClient) -> None:
    first = register(client, "v-value", record(ID))
    register(client, "v-value", record(ID, NOTE))
    assert client.get(f"/schemas/ids/{first['id']}/versions").json() == [{"subject": "v-value", "version": 1}]
    assert client.delete("/subjects/v-value/versions/1").json() == 1
    assert client.get("/subjects/v-value/versions").json() == [2]
    assert client.delete("/subjects/v-value/versions/1").json()["error_code"] == 40406
    assert client.delete("/subjects/v-value/versions/2?permanent=true").json()["error_code"] == 40407


def test_lookup_finds_the_version_of_a_schema(client: TestClient) -> None:
    register(client, "l-value", record(ID))
    found = client.post("/subjects/l-value", json={"schema": record(ID)}).json()
    assert (found["subject"], found["version"]) == ("l-value", 1)
    missing = client.post("/subjects/l-value", json={"schema": record(ID, NOTE)})
    assert missing.json()["error_code"] == 40403


def test_references_and_referencedby(client: TestClient) -> None:
    address = json.dumps(
        {
            "type": "record",
            "name": "Address",
            "namespace": "com.example",
            "doc": "An address.",
            "fields": [{"name": "city", "type": "string", "doc": "City."}],
        }
    )
    register(client, "address", address)
    customer = record({"name": "home", "type": "com.example.Address", "doc": "Home."}, name="Customer")
    refs = [{"name": "com.example.Address", "subject": "address", "version": 1}]
    created = register(client, "customer-value", customer, references=refs)
    assert client.get("/subjects/address/versions/1/referencedby").json() == [created["id"]]
    assert client.get(f"/schemas/ids/{created['id']}").json()["references"] == refs
    assert client.delete("/subjects/address/versions/1").json()["error_code"] == 42206


def test_config_and_mode_need_admin_and_follow_confluent(client: TestClient, tokens: Tokens) -> None:
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
    denied = client.put("/config", json={"compatibility": "FULL"})
    assert (denied.status_code, denied.json()["error_code"]) == (403, 40301)
    admin = tokens.header("admin")
    assert client.put("/config/x-value", json={"compatibility": "NONE"}, headers=admin).json() == {
        "compatibility": "NONE"
    }
    assert client.get("/config/x-value").json() == {"compatibilityLevel": "NONE"}
    assert client.get("/config/y-value").json()["error_code"] == 40408
    assert client.get("/config/y-value?defaultToGlobal=true").json() == {"compatibilityLevel": "BACKWARD"}
    bad = client.put("/config", json={"compatibility": "SIDEWAYS"}, headers=admin)
    assert (bad.status_code, bad.json()["error_code"]) == (422, 42203)
    assert client.delete("/config/x-value", headers=admin).json() == {"compatibilityLevel": "NONE"}
    assert client.get("/mode").json() == {"mode": "READWRITE"}
    assert client.put("/mode/x-value", json={"mode": "READONLY"}, headers=admin).json() == {
        "mode": "READONLY"
    }
    refused = client.post("/subjects/x-value/versions", json={"schema": record(ID)})
    assert refused.json()["error_code"] == 42205


def test_writes_need_a_producer_token_and_reads_are_open(client: TestClient, tokens: Tokens) -> None:
    anonymous = client.post(
        "/subjects/a-value/versions", json={"schema": record(ID)}, headers={"Authorization": ""}
    )
    assert (anonymous.status_code, anonymous.json()["error_code"]) == (401, 40101)
    consumer = client.post(
        "/subjects/a-value/versions", json={"schema": record(ID)}, headers=tokens.header("consumer")
    )
    assert (consumer.status_code, consumer.json()["error_code"]) == (403, 40301)
    assert client.get("/subjects", headers={"Authorization": ""}).status_code == 200


def test_schema_types_and_unknown_routes(client: TestClient) -> None:
    assert sorted(client.get("/schemas/types").json()) == ["AVRO", "JSON", "PROTOBUF"]
    missing = client.get("/associations/resources/default/orders")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == 404


def test_health_ready_checks_the_database(client: TestClient) -> None:
    assert client.get("/health/ready").json()["status"] == "ok"


def test_an_id_asked_for_before_it_exists_is_found_once_registered(client: TestClient) -> None:
    assert client.get("/schemas/ids/1").json()["error_code"] == 40403
    created = register(client, "late-value", record(ID))
    assert client.get(f"/schemas/ids/{created['id']}").status_code == 200
    assert client.get(f"/schemas/ids/{created['id']}/schema").json()["name"] == "Order"


def test_list_schemas_filters_by_prefix_and_latest(client: TestClient) -> None:
    register(client, "alpha-value", record(ID))
    register(client, "alpha-value", record(ID, NOTE))
    register(client, "beta-value", record(ID))
    listed = client.get("/schemas?subjectPrefix=alpha").json()
    assert [(s["subject"], s["version"]) for s in listed] == [("alpha-value", 1), ("alpha-value", 2)]
    latest = client.get("/schemas?latestOnly=true").json()
    assert [(s["subject"], s["version"]) for s in latest] == [("alpha-value", 2), ("beta-value", 1)]


def test_non_ascii_digits_are_an_invalid_version(client: TestClient) -> None:
    register(client, "digits-value", record(ID))
    for version in ("\u00b2", "\uff11", "\u0663"):
        response = client.get(f"/subjects/digits-value/versions/{version}")
        assert (response.status_code, response.json()["error_code"]) == (422, 42202)
