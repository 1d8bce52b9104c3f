"""Data contracts over the Confluent API (in-process app, real SQLite): ``metadata`` and ``ruleSet`` stored
and returned, part of a schema's identity, inherited from the latest version, matched on lookup;
``confluent:version`` and ``compatibilityGroup`` as Confluent's AbstractSchemaRegistry applies them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.conftest import Tokens

pytestmark = pytest.mark.integration

RULES = {
    "domainRules": [{"name": "checkId", "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "true"}]
}


def avro(*fields: tuple[str, str]) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "com.example",
            "fields": [{"name": n, "type": t} for n, t in fields],
        }
    )


def register(client: TestClient, subject: str, schema: str, **extra: Any) -> dict[str, int]:
    response = client.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})
    assert response.status_code == 200, response.text
    answer: dict[str, int] = response.json()
    return answer


def props(**values: str) -> dict[str, Any]:
    return {"properties": values}


def test_metadata_and_rule_set_are_stored_and_returned(client: TestClient) -> None:
    metadata = {"properties": {"owner": "sales"}, "tags": {"Order.id": ["PII"]}, "sensitive": ["id"]}
    created = register(client, "c-value", avro(("id", "string")), metadata=metadata, ruleSet=RULES)
    for answer in (
        client.get(f"/schemas/ids/{created['id']}").json(),
        client.get("/subjects/c-value/versions/1").json(),
        client.get("/subjects/c-value/versions/latest").json(),
    ):
        assert answer["metadata"] == metadata
        assert answer["ruleSet"] == RULES


def test_metadata_is_part_of_a_schemas_identity(client: TestClient) -> None:
    schema = avro(("id", "string"))
    first = register(client, "i-value", schema, metadata=props(owner="a"))
    second = register(client, "i-value", schema, metadata=props(owner="b"))
    assert second["id"] != first["id"]
    assert second["version"] == 2
    assert register(client, "i-value", schema, metadata=props(owner="a")) == first


def test_a_schema_sent_without_metadata_inherits_the_latest_versions(client: TestClient) -> None:
    """Confluent's testRegisterWithAndWithoutMetadata: the same id comes back."""
    schema = avro(("id", "string"))
    first = register(client, "w-value", schema, metadata=props(**{"application.version": "2"}))
    assert register(client, "w-value", schema) == first
    evolved = register(
        client,
        "w-value",
        avro(("id", "string"), ("note", "string")).replace(
            '"type": "string"}]', '"type": "string", "default": ""}]'
        ),
    )
    assert client.get(f"/schemas/ids/{evolved['id']}").json()["metadata"] == props(
        **{"application.version": "2"}
    )


def test_lookup_matches_metadata_properties(client: TestClient) -> None:
    schema = avro(("id", "string"))
    register(client, "l-value", schema, metadata=props(owner="a"))
    register(client, "l-value", schema, metadata=props(owner="b"))
    found = client.post("/subjects/l-value", json={"schema": schema, "metadata": props(owner="a")}).json()
    assert (found["version"], found["metadata"]) == (1, props(owner="a"))
    missing = client.post("/subjects/l-value", json={"schema": schema, "metadata": props(owner="c")})
    assert missing.json()["error_code"] == 40403
    # Without metadata the lookup takes the latest version's, as registration would.
    assert client.post("/subjects/l-value", json={"schema": schema}).json()["version"] == 2


def test_confluent_version_pins_the_version_and_records_each_new_number(client: TestClient) -> None:
    schema = avro(("id", "string"))
    first = register(client, "v-value", schema, metadata=props(**{"confluent:version": "1"}))
    assert first["version"] == 1
    assert client.get("/subjects/v-value/versions/1").json()["metadata"] == props(
        **{"confluent:version": "1"}
    )
    assert register(client, "v-value", schema, metadata=props(**{"confluent:version": "1"})) == first
    # Pinning a version the schema is not at registers it anew, and the new version names itself.
    again = register(client, "v-value", schema, metadata=props(**{"confluent:version": "5"}))
    assert again["version"] == 2
    assert client.get("/subjects/v-value/versions/2").json()["metadata"] == props(
        **{"confluent:version": "2"}
    )


def test_versions_in_different_compatibility_groups_are_not_compared(
    client: TestClient, tokens: Tokens
) -> None:
    admin = tokens.header("admin")
    set_group = client.put(
        "/config/g-value", json={"compatibilityGroup": "application.major.version"}, headers=admin
    )
    assert set_group.json() == {"compatibilityGroup": "application.major.version"}
    assert client.get("/config/g-value").json() == {"compatibilityGroup": "application.major.version"}
    assert client.get("/config/g-value?defaultToGlobal=true").json() == {
        "compatibilityLevel": "BACKWARD",
        "compatibilityGroup": "application.major.version",
    }
    register(client, "g-value", avro(("id", "string")), metadata=props(**{"application.major.version": "1"}))
    breaking = avro(("id", "long"))
    refused = client.post(
        "/subjects/g-value/versions",
        json={"schema": breaking, "metadata": props(**{"application.major.version": "1"})},
    )
    assert refused.status_code == 409
    check = client.post(
        "/compatibility/subjects/g-value/versions/latest",
        json={"schema": breaking, "metadata": props(**{"application.major.version": "2"})},
    )
    assert check.json() == {"is_compatible": True}
    accepted = register(client, "g-value", breaking, metadata=props(**{"application.major.version": "2"}))
    assert accepted["version"] == 2


def test_a_malformed_metadata_document_is_refused(client: TestClient) -> None:
    bad = client.post(
        "/subjects/b-value/versions",
        json={"schema": avro(("id", "string")), "metadata": {"properties": {"a": 1}}},
    )
    assert bad.status_code == 422
    assert bad.json()["error_code"] == 42200


def test_a_malformed_rule_set_is_refused_with_confluents_invalid_ruleset_code(client: TestClient) -> None:
    bad = client.post(
        "/subjects/r-value/versions",
        json={"schema": avro(("id", "string")), "ruleSet": {"domainRules": [{"kind": "CONDITION"}]}},
    )
    assert bad.status_code == 422
    assert bad.json()["error_code"] == 42210  # Confluent's INVALID_RULESET
    assert "ruleSet.domainRules.0.name" in bad.json()["message"]
