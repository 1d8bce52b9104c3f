"""The spine API: semver gate, MAJOR moves the topic, lint at registration, tags, deprecate, rollback."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.registry.conftest import Tokens

pytestmark = pytest.mark.integration

ID = {"name": "id", "type": "string", "doc": "Order id.", "confluent:tags": ["PUBLIC"]}
EMAIL = {"name": "email", "type": "string", "doc": "Buyer email.", "confluent:tags": ["PII.email"]}
NOTE = {
    "name": "note",
    "type": ["null", "string"],
    "default": None,
    "doc": "Note.",
    "confluent:tags": ["PUBLIC"],
}


def order(*fields: Mapping[str, object], doc: str = "An order.") -> str:
    return json.dumps(
        {"type": "record", "name": "Order", "namespace": "com.example", "doc": doc, "fields": list(fields)}
    )


def publish(
    client: TestClient, subject: str, schema: str, version: str | None = None, **extra: object
) -> Any:
    return client.post(f"/schemas/{subject}", json={"schema": schema, "version": version, **extra})


def test_first_publish_answers_with_semver_and_governed_topic(client: TestClient) -> None:
    response = publish(client, "orders.placed-value", order(ID), "1.0.0")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["semver"] == "1.0.0"
    assert body["topic"] == "orders.placed.v1"
    assert body["version"] == 1
    assert body["dryRun"] is False
    for key in ("subject", "id", "change", "reasons", "lint", "incompatibilities"):
        assert key in body


def test_compatible_addition_is_minor_and_docs_only_is_patch(client: TestClient) -> None:
    publish(client, "o-value", order(ID), "1.0.0")
    minor = publish(client, "o-value", order(ID, NOTE)).json()
    assert (minor["change"], minor["semver"]) == ("MINOR", "1.1.0")
    patch = publish(client, "o-value", order(ID, NOTE, doc="An order, placed.")).json()
    assert (patch["change"], patch["semver"]) == ("PATCH", "1.1.1")
    listed = client.get("/schemas/o-value/versions").json()
    assert [v["semver"] for v in listed] == ["1.0.0", "1.1.0", "1.1.1"]


def test_understated_version_is_refused_with_42240_and_problems(client: TestClient) -> None:
    publish(client, "u-value", order(ID), "1.0.0")
    response = publish(client, "u-value", order(ID, NOTE), "1.0.1")
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == 42240
    assert body["problems"]
    assert {"path", "message", "kind"} <= set(body["problems"][0])


def test_breaking_change_without_major_is_refused_and_with_major_moves_the_topic(client: TestClient) -> None:
    publish(client, "m-value", order(ID), "1.0.0")
    refused = publish(client, "m-value", order(ID, EMAIL))
    assert (refused.status_code, refused.json()["error_code"]) == (409, 409)
    assert refused.json()["problems"][0]["path"]
    assert "2.0.0" in refused.json()["message"]
    accepted = publish(client, "m-value", order(ID, EMAIL), "2.0.0")
    body = accepted.json()
    assert accepted.status_code == 200, body
    assert (body["change"], body["semver"], body["topic"]) == ("MAJOR", "2.0.0", "m.v2")
    assert any("m.v2" in reason for reason in body["reasons"])


def test_dry_run_registers_nothing(client: TestClient) -> None:
    publish(client, "dry-value", order(ID), "1.0.0")
    body = publish(client, "dry-value", order(ID, NOTE), dryRun=True).json()
    assert body["dryRun"] is True
    assert body["version"] is None
    assert body["semver"] == "1.1.0"
    assert client.get("/subjects/dry-value/versions").json() == [1]
    fresh = publish(client, "fresh-value", order(ID), "1.0.0", dryRun=True).json()
    assert (fresh["semver"], fresh["id"]) == ("1.0.0", None)
    assert client.get("/subjects").json() == ["dry-value"]


def test_lint_error_blocks_on_both_apis_with_42230(client: TestClient, tokens: Tokens) -> None:
    config = {"avro.doc-required": "error"}
    assert client.put("/schemas/l-value/lint", json=config, headers=tokens.header("admin")).status_code == 200
    undocumented = order({"name": "id", "type": "string"})
    spine = publish(client, "l-value", undocumented, "1.0.0")
    confluent = client.post("/subjects/l-value/versions", json={"schema": undocumented})
    for response in (spine, confluent):
        body = response.json()
        assert body["error_code"] == 42230, body
        assert body["problems"][0]["path"]


def test_tags_deprecate_and_latest(client: TestClient) -> None:
    publish(client, "t-value", order(ID, EMAIL), "1.0.0")
    tags = client.get("/schemas/t-value/versions/1/tags").json()
    assert {"path": "email", "tags": ["PII.email"]} in tags["fields"]
    assert client.post("/schemas/t-value/versions/1/deprecate").json()["deprecated"] is True
    latest = client.get("/schemas/t-value").json()
    assert latest["deprecated"] is True
    assert latest["semver"] == "1.0.0"
    assert {"path": "id", "tags": ["PUBLIC"]} in latest["tags"]


def test_rollback_re_registers_an_older_schema_as_latest(client: TestClient) -> None:
    first = publish(client, "r-value", order(ID), "1.0.0").json()
    publish(client, "r-value", order(ID, NOTE))
    body = client.post("/schemas/r-value/rollback", json={"to": 1}).json()
    assert body["version"] == 3
    assert body["id"] == first["id"]
    assert client.get("/subjects/r-value/versions/latest").json()["id"] == first["id"]


def test_spine_publish_needs_a_producer_token(client: TestClient, tokens: Tokens) -> None:
    response = client.post("/schemas/x-value", json={"schema": order(ID)}, headers=tokens.header("consumer"))
    assert (response.status_code, response.json()["error_code"]) == (403, 40301)


def test_transitive_level_refusal_is_major_and_accepted_when_declared(
    client: TestClient, tokens: Tokens
) -> None:
    level = {"compatibility": "BACKWARD_TRANSITIVE"}
    assert client.put("/config/tr-value", json=level, headers=tokens.header("admin")).status_code == 200
    optional = {"name": "email", "type": "string", "default": "", "doc": "Email."}
    required = {"name": "email", "type": "string", "doc": "Email."}
    publish(client, "tr-value", order(ID), "1.0.0")
    assert publish(client, "tr-value", order(ID, optional)).json()["semver"] == "1.1.0"
    refused = publish(client, "tr-value", order(ID, required))
    assert (refused.status_code, refused.json()["error_code"]) == (409, 409)
    assert "2.0.0" in refused.json()["message"]
    accepted = publish(client, "tr-value", order(ID, required), "2.0.0")
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["change"], accepted.json()["topic"]) == ("MAJOR", "tr.v2")


def test_one_version_and_a_diff_between_versions(client: TestClient) -> None:
    publish(client, "df-value", order(ID), "1.0.0")
    publish(client, "df-value", order(ID, NOTE))
    second = client.get("/schemas/df-value/versions/2").json()
    assert (second["version"], second["semver"], second["deprecated"]) == (2, "1.1.0", False)
    diff = client.get("/schemas/df-value/diff?from=1&to=2").json()
    assert (diff["from"]["semver"], diff["to"]["semver"]) == ("1.0.0", "1.1.0")
    assert any(c["path"].endswith("note") and c["change"] == "MINOR" for c in diff["changes"]), diff
    assert client.get("/schemas/df-value/diff?from=9").json()["error_code"] == 40402


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        (
            "a\u202eb",
            "subject 'a\\u202eb': character U+202E at position 1 cannot appear in a Kafka topic name",
        ),
        (" ", "subject ' ': character U+0020 at position 0 cannot appear in a Kafka topic name"),
    ],
)
def test_subject_that_cannot_become_a_topic_is_refused_by_the_spine_api_only(
    client: TestClient, subject: str, message: str
) -> None:
    for dry_run in (True, False):
        refused = publish(client, subject, order(ID), "1.0.0", dryRun=dry_run)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error_code"] == 42208
        assert refused.json()["message"] == message
    assert client.get("/subjects").json() == []
    confluent = client.post(f"/subjects/{subject}/versions", json={"schema": order(ID)})
    assert confluent.status_code == 200, confluent.text
    assert client.get("/subjects").json() == [subject]


PAYMENT_PROTO = 'syntax = "proto3";\npackage com.example;\nmessage Payment {\n%s\n}\n'


def test_removed_protobuf_field_is_minor_and_a_subject_can_refuse_it_by_lint(
    client: TestClient, tokens: Tokens
) -> None:
    """Confluent FIELD_REMOVED is compatible, so the gate classes it MINOR; proto.field-removed-reserved
    warns, and set to error on a subject it blocks with 42230."""
    two = PAYMENT_PROTO % "string id = 1;\nint64 amount = 2;"
    one = PAYMENT_PROTO % "string id = 1;"
    for subject in ("pr-value", "pe-value"):
        assert publish(client, subject, two, "1.0.0", schemaType="PROTOBUF").status_code == 200
    minor = publish(client, "pr-value", one, schemaType="PROTOBUF").json()
    assert (minor["change"], minor["semver"]) == ("MINOR", "1.1.0")
    assert {
        "rule": "proto.field-removed-reserved",
        "severity": "warn",
        "path": "/messages/Payment/fields/amount",
    }.items() <= next(f for f in minor["lint"] if f["rule"] == "proto.field-removed-reserved").items()
    config = {"proto.field-removed-reserved": "error"}
    admin = tokens.header("admin")
    assert client.put("/schemas/pe-value/lint", json=config, headers=admin).status_code == 200
    refused = publish(client, "pe-value", one, schemaType="PROTOBUF").json()
    assert refused["error_code"] == 42230, refused
    assert refused["problems"][0]["path"] == "/messages/Payment/fields/amount"
    reserved = PAYMENT_PROTO % 'string id = 1;\nreserved 2;\nreserved "amount";'
    assert publish(client, "pe-value", reserved, schemaType="PROTOBUF").json()["semver"] == "1.1.0"
