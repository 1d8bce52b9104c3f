"""Listing parameters and answer shapes of the Confluent API as Confluent's resources define them
(SubjectsResource.list, SubjectVersionsResource, SchemasResource, CompatibilityResource, ConfigResource)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.conftest import Tokens

pytestmark = pytest.mark.integration


def avro(name: str, *fields: str) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "namespace": "com.example",
            "fields": [{"name": f, "type": ["null", "string"], "default": None} for f in fields],
        }
    )


def register(client: TestClient, subject: str, schema: str, **extra: object) -> dict[str, int]:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    answer: dict[str, int] = response.json()
    return answer


def test_root_answers_an_empty_object(client: TestClient) -> None:
    assert client.get("/").json() == {}


def test_subjects_page_filter_by_prefix_and_list_deleted_only(client: TestClient) -> None:
    for subject in ("a-value", "b-value", "b2-value", "c-value"):
        register(client, subject, avro("R", "x"))
    client.delete("/subjects/c-value")
    assert client.get("/subjects").json() == ["a-value", "b-value", "b2-value"]
    assert client.get("/subjects?offset=1&limit=1").json() == ["b-value"]
    assert client.get("/subjects?offset=2").json() == ["b2-value"]
    assert client.get("/subjects?limit=0").json() == ["a-value", "b-value", "b2-value"]
    assert client.get("/subjects?subjectPrefix=b").json() == ["b-value", "b2-value"]
    assert client.get("/subjects?deletedOnly=true").json() == ["c-value"]
    assert client.get("/subjects?deleted=true").json() == ["a-value", "b-value", "b2-value", "c-value"]
    assert client.get("/subjects?deleted=true&deletedOnly=true").json() == ["c-value"]


def test_versions_and_schema_listings_page(client: TestClient) -> None:
    for n in range(1, 5):
        register(client, "p-value", avro("R", *[f"f{i}" for i in range(n)]))
    shared = register(client, "p-value", avro("R", "f0", "f1", "f2", "f3", "f4"))["id"]
    for subject in ("q-value", "r-value"):
        register(client, subject, avro("R", "f0", "f1", "f2", "f3", "f4"))
    assert client.get("/subjects/p-value/versions?offset=1&limit=2").json() == [2, 3]
    client.delete("/subjects/p-value/versions/1")
    assert client.get("/subjects/p-value/versions?deletedOnly=true").json() == [1]
    assert client.get(f"/schemas/ids/{shared}/subjects?offset=1").json() == ["q-value", "r-value"]
    assert client.get(f"/schemas/ids/{shared}/subjects?limit=1").json() == ["p-value"]
    assert client.get(f"/schemas/ids/{shared}/versions?offset=2&limit=5").json() == [
        {"subject": "r-value", "version": 1}
    ]


def test_schema_type_is_named_on_every_schema_answer_avro_included(client: TestClient) -> None:
    created = register(client, "t-value", avro("T", "x"))
    answers = [
        client.get(f"/schemas/ids/{created['id']}").json(),
        client.get(f"/schemas/ids/{created['id']}?subject=t-value").json(),
        client.get("/subjects/t-value/versions/1").json(),
        client.get("/subjects/t-value/versions/latest").json(),
        client.post("/subjects/t-value", json={"schema": avro("T", "x")}).json(),
        client.get("/schemas").json()[0],
    ]
    assert [a["schemaType"] for a in answers] == ["AVRO"] * len(answers)


def test_fetch_max_id_adds_the_highest_id(client: TestClient) -> None:
    first = register(client, "m-value", avro("M", "x"))["id"]
    last = register(client, "n-value", avro("N", "y"))["id"]
    answer = client.get(f"/schemas/ids/{first}?fetchMaxId=true").json()
    assert answer["maxId"] == last
    assert answer["schema"] == avro("M", "x")
    assert "maxId" not in client.get(f"/schemas/ids/{first}").json()


@pytest.mark.parametrize("schema_type", ["avro", "Json", "protobuf"])
def test_a_schema_type_not_spelled_as_confluent_spells_it_is_refused(
    client: TestClient, schema_type: str
) -> None:
    refused = client.post(
        "/subjects/l-value/versions", json={"schema": avro("L", "x"), "schemaType": schema_type}
    )
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42201)
    assert refused.json()["message"] == f"Invalid schema type {schema_type}"


def test_put_config_with_an_empty_body_answers_the_config_in_force(
    client: TestClient, tokens: Tokens
) -> None:
    admin = tokens.header("admin")
    assert client.put("/config", json={}, headers=admin).json() == {"compatibility": "BACKWARD"}
    client.put("/config/e-value", json={"compatibility": "FULL"}, headers=admin)
    assert client.put("/config/e-value", json={}, headers=admin).json() == {"compatibility": "FULL"}
    assert client.get("/config").json() == {"compatibilityLevel": "BACKWARD"}


def test_compatibility_check_against_a_missing_version_is_40402(client: TestClient) -> None:
    body = {"schema": avro("C", "x")}
    missing_subject = client.post("/compatibility/subjects/nobody-value/versions/3", json=body)
    assert (missing_subject.status_code, missing_subject.json()["error_code"]) == (404, 40402)
    register(client, "c-value", avro("C", "x"))
    missing_version = client.post("/compatibility/subjects/c-value/versions/3", json=body)
    assert missing_version.json()["error_code"] == 40402
    # Against "latest" of a subject with no version there is nothing to break.
    latest = client.post("/compatibility/subjects/nobody-value/versions/latest", json=body)
    assert latest.json() == {"is_compatible": True}


def test_a_reference_to_a_missing_version_is_an_invalid_schema(client: TestClient) -> None:
    refs = [{"name": "com.example.Gone", "subject": "gone-value", "version": 1}]
    record = json.dumps(
        {"type": "record", "name": "Holder", "fields": [{"name": "g", "type": "com.example.Gone"}]}
    )
    refused = client.post("/subjects/h-value/versions", json={"schema": record, "references": refs})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42201)
    assert "gone-value" in refused.json()["message"]


def test_an_empty_schema_on_lookup_is_not_found(client: TestClient) -> None:
    register(client, "e-value", avro("E", "x"))
    empty = client.post("/subjects/e-value", json={"schema": ""})
    assert (empty.status_code, empty.json()["error_code"]) == (404, 40403)
    no_subject = client.post("/subjects/none-value", json={"schema": ""})
    assert no_subject.json()["error_code"] == 40401
