"""Registry modes over the Confluent API (in-process app, real SQLite), as Confluent's RestApiTest and
RestApiModeTest describe them: IMPORT keeps ids and versions, READONLY(_OVERRIDE) refuses writes (42205)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.conftest import Tokens

pytestmark = pytest.mark.integration


def avro(*names: str) -> str:
    fields = [{"name": n, "type": ["null", "string"], "default": None} for n in names]
    return json.dumps({"type": "record", "name": "Order", "namespace": "com.example", "fields": fields})


def test_import_mode_keeps_ids_and_versions_and_new_ids_continue_above(
    client: TestClient, tokens: Tokens
) -> None:
    admin = tokens.header("admin")
    assert client.put("/mode", json={"mode": "IMPORT"}, headers=admin).json() == {"mode": "IMPORT"}
    body = {"schema": avro("a"), "id": 100, "version": 3}
    assert client.post("/subjects/orders-value/versions", json=body).json() == {"id": 100, "version": 3}
    # An incompatible schema (under BACKWARD) is imported without a check.
    incompatible = json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "com.example",
            "fields": [{"name": "a", "type": "int"}],
        }
    )
    second = {"schema": incompatible, "id": 205, "version": 7}
    assert client.post("/subjects/orders-value/versions", json=second).json() == {"id": 205, "version": 7}
    assert client.get("/subjects/orders-value/versions").json() == [3, 7]
    assert client.get("/schemas/ids/205").json()["schema"] == incompatible
    # A re-run of the same import answers the same id and version.
    assert client.post("/subjects/orders-value/versions", json=body).json() == {"id": 100, "version": 3}

    assert client.put("/mode", json={"mode": "READWRITE"}, headers=admin).status_code == 200
    fresh = client.post("/subjects/other-value/versions", json={"schema": avro("z")}).json()
    assert fresh["id"] > 205
    assert fresh["version"] == 1


def test_import_mode_refuses_another_schema_under_an_existing_id(client: TestClient, tokens: Tokens) -> None:
    admin = tokens.header("admin")
    client.put("/mode", json={"mode": "IMPORT"}, headers=admin)
    assert client.post("/subjects/a-value/versions", json={"schema": avro("a"), "id": 7}).status_code == 200
    clash = client.post("/subjects/b-value/versions", json={"schema": avro("b"), "id": 7})
    assert clash.status_code == 422
    assert clash.json()["error_code"] == 42205
    assert "Overwrite new schema with id 7" in clash.json()["message"]
    # The same schema under the same id in a second subject is fine (Confluent shares ids across subjects).
    again = client.post("/subjects/c-value/versions", json={"schema": avro("a"), "id": 7})
    assert again.json() == {"id": 7, "version": 1}
    # Another id for the same schema is kept too, as Confluent keeps it; a re-run answers the same.
    second = {"schema": avro("a"), "id": 9, "version": 2}
    assert client.post("/subjects/c-value/versions", json=second).json() == {"id": 9, "version": 2}
    assert client.post("/subjects/c-value/versions", json=second).json() == {"id": 9, "version": 2}
    assert client.get("/schemas/ids/9").json()["schema"] == avro("a")
    assert client.get("/schemas/ids/9/versions").json() == [{"subject": "c-value", "version": 2}]


def test_import_mode_refuses_a_registration_without_an_id(client: TestClient, tokens: Tokens) -> None:
    client.put("/mode", json={"mode": "IMPORT"}, headers=tokens.header("admin"))
    refused = client.post("/subjects/a-value/versions", json={"schema": avro("a")})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
    assert "not in read-write mode" in refused.json()["message"]


def test_an_explicit_id_in_read_write_mode_is_refused(client: TestClient) -> None:
    refused = client.post("/subjects/a-value/versions", json={"schema": avro("a"), "id": 12})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
    assert "not in import mode" in refused.json()["message"]
    # -1 is what Confluent's clients send for "no id".
    assert client.post("/subjects/a-value/versions", json={"schema": avro("a"), "id": -1}).status_code == 200


def test_entering_import_mode_needs_an_empty_registry_unless_forced(
    client: TestClient, tokens: Tokens
) -> None:
    admin = tokens.header("admin")
    client.post("/subjects/a-value/versions", json={"schema": avro("a")})
    refused = client.put("/mode", json={"mode": "IMPORT"}, headers=admin)
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42205)
    assert client.put("/mode?force=true", json={"mode": "IMPORT"}, headers=admin).json() == {"mode": "IMPORT"}


@pytest.mark.parametrize("mode", ["READONLY", "READONLY_OVERRIDE"])
def test_read_only_modes_refuse_registration_deletes_and_subject_config(
    client: TestClient, tokens: Tokens, mode: str
) -> None:
    admin = tokens.header("admin")
    client.post("/subjects/a-value/versions", json={"schema": avro("a")})
    client.put("/config/a-value", json={"compatibility": "FULL"}, headers=admin)
    assert client.put("/mode/a-value", json={"mode": mode}, headers=admin).json() == {"mode": mode}
    assert client.get("/mode/a-value").json() == {"mode": mode}
    refusals = [
        client.post("/subjects/a-value/versions", json={"schema": avro("a", "b")}),
        client.post("/subjects/a-value/versions", json={"schema": avro("a")}),
        client.delete("/subjects/a-value/versions/1"),
        client.delete("/subjects/a-value"),
        client.put("/config/a-value", json={"compatibility": "NONE"}, headers=admin),
        client.delete("/config/a-value", headers=admin),
    ]
    assert [(r.status_code, r.json()["error_code"]) for r in refusals] == [(422, 42205)] * len(refusals)
    assert all("read-only mode" in r.json()["message"] for r in refusals)
    # Reads still answer, and the mode itself can be changed back.
    assert client.get("/subjects/a-value/versions").json() == [1]
    assert client.put("/mode/a-value", json={"mode": "READWRITE"}, headers=admin).status_code == 200
    assert client.delete("/subjects/a-value/versions/1").status_code == 200


def test_global_read_only_override_applies_to_subjects_without_their_own_mode(
    client: TestClient, tokens: Tokens
) -> None:
    admin = tokens.header("admin")
    client.put("/mode", json={"mode": "READONLY_OVERRIDE"}, headers=admin)
    assert client.get("/mode/b-value?defaultToGlobal=true").json() == {"mode": "READONLY_OVERRIDE"}
    refused = client.post("/subjects/b-value/versions", json={"schema": avro("a")})
    assert refused.json()["error_code"] == 42205
    assert client.put("/config", json={"compatibility": "NONE"}, headers=admin).json()["error_code"] == 42205


def test_a_version_sent_outside_import_mode_must_be_the_next_one(client: TestClient) -> None:
    refused = client.post("/subjects/a-value/versions", json={"schema": avro("a"), "version": 4})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42201)
    assert refused.json()["message"] == "Version is not one more than previous version"
    accepted = client.post("/subjects/a-value/versions", json={"schema": avro("a"), "version": 1})
    assert accepted.json()["version"] == 1


def test_import_mode_counts_metadata_in_what_an_id_holds(client: TestClient, tokens: Tokens) -> None:
    client.put("/mode", json={"mode": "IMPORT"}, headers=tokens.header("admin"))
    contract = {"schema": avro("a"), "id": 3, "metadata": {"properties": {"owner": "x"}}}
    assert client.post("/subjects/m-value/versions", json=contract).json() == {"id": 3, "version": 1}
    assert client.post("/subjects/m-value/versions", json=contract).json() == {"id": 3, "version": 1}
    other = {**contract, "metadata": {"properties": {"owner": "y"}}}
    clash = client.post("/subjects/n-value/versions", json=other)
    assert clash.json()["error_code"] == 42205
    assert client.get("/schemas/ids/3").json()["metadata"] == {"properties": {"owner": "x"}}
