"""Removing or weakening a field's tags is a governance change: security or admin only, audited by the
residency gate before the version commits, failing closed — on the spine API and on Confluent's (through
confluent-kafka's own SchemaRegistryClient). A real registry and a real gate share one token store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from spine.auth import Role
from tests.integration.registry.conftest import build_app, make_tokens, serve_in_thread
from tests.integration.residency_gate.gate import Gate, start_gate

pytestmark = pytest.mark.integration

SUBJECT = "sales.customers-value"


def customer(*email_tags: str, name: str = "email", aliases: tuple[str, ...] = ()) -> str:
    email: dict[str, Any] = {"name": name, "type": "string"}
    if email_tags:
        email["confluent:tags"] = list(email_tags)
    if aliases:
        email["aliases"] = list(aliases)
    fields = [{"name": "id", "type": "string"}, email]
    return json.dumps({"type": "record", "name": "Customer", "namespace": "sales", "fields": fields})


@dataclass
class Spine:
    registry: str
    gate: Gate
    server: uvicorn.Server
    clients: list[SchemaRegistryClient] = field(default_factory=list)

    def token(self, role: Role) -> str:
        return self.gate.tokens[role]

    def publish(self, schema: str, role: Role, version: str | None = None) -> httpx.Response:
        return httpx.post(
            f"{self.registry}/schemas/{SUBJECT}",
            json={"schema": schema, "version": version},
            headers={"Authorization": f"Bearer {self.token(role)}"},
            timeout=30,
        )

    def versions(self) -> list[int]:
        answer = httpx.get(f"{self.registry}/subjects/{SUBJECT}/versions", timeout=30)
        return list(answer.json()) if answer.status_code == 200 else []

    def declassification_records(self) -> list[dict[str, Any]]:
        records = self.gate.get("/v1/audit", role=Role.SECURITY, params={"limit": 1000}).json()["records"]
        return [r for r in records if r["kind"] == "declassification"]

    def sr_client(self, role: Role) -> SchemaRegistryClient:
        client = SchemaRegistryClient(
            {
                "url": self.registry,
                "bearer.auth.credentials.source": "STATIC_TOKEN",
                "bearer.auth.token": self.token(role),
                "bearer.auth.logical.cluster": "spine",
            }
        )
        self.clients.append(client)
        return client


def run_registry(home: Path, residency_url: str | None) -> tuple[str, uvicorn.Server]:
    url, server, _thread = serve_in_thread(build_app(home, residency_url=residency_url))
    return url, server


@pytest.fixture
def spine(tmp_path: Path) -> Iterator[Spine]:
    gate = start_gate(tmp_path)
    url, server = run_registry(tmp_path, gate.url)
    try:
        running = Spine(url, gate, server)
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.should_exit = True
        gate.stop()


def test_producer_cannot_declassify_on_the_spine_api_and_the_refusal_names_field_and_tag(
    spine: Spine,
) -> None:
    assert spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0").status_code == 200
    for weaker in (customer(), customer("PII")):
        refused = spine.publish(weaker, Role.PRODUCER)
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["error_code"] == 40310
        assert "field 'email' loses tag PII.email" in body["message"]
        assert body["problems"][0]["path"] == "email"
    assert spine.versions() == [1]
    assert spine.declassification_records() == []
    stronger = spine.publish(customer("PII.email", "PII.contact"), Role.PRODUCER)
    assert (stronger.status_code, stronger.json()["change"]) == (200, "PATCH")


def test_renaming_a_field_with_an_alias_cannot_launder_its_tag(spine: Spine) -> None:
    spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0")
    laundered = spine.publish(customer(name="contact", aliases=("email",)), Role.PRODUCER, "2.0.0")
    assert (laundered.status_code, laundered.json()["error_code"]) == (403, 40310), laundered.text
    assert "renamed to 'contact'" in laundered.json()["message"]


def test_a_field_dropped_and_brought_back_untagged_is_a_declassification(spine: Spine) -> None:
    assert spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0").status_code == 200
    without_email = json.dumps(
        {
            "type": "record",
            "name": "Customer",
            "namespace": "sales",
            "fields": [{"name": "id", "type": "string"}],
        }
    )
    dropped = spine.publish(without_email, Role.PRODUCER)
    assert dropped.status_code == 200, dropped.text
    optional_email = {"name": "email", "type": ["null", "string"], "default": None}
    back = spine.publish(
        json.dumps(
            {
                "type": "record",
                "name": "Customer",
                "namespace": "sales",
                "fields": [{"name": "id", "type": "string"}, optional_email],
            }
        ),
        Role.PRODUCER,
    )
    assert (back.status_code, back.json()["error_code"]) == (403, 40310), back.text
    assert "field 'email' loses tag PII.email" in back.json()["message"]
    assert spine.versions() == [1, 2]


def test_producer_cannot_launder_a_tag_through_a_soft_delete(spine: Spine) -> None:
    spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0")
    deleted = httpx.delete(
        f"{spine.registry}/subjects/{SUBJECT}",
        headers={"Authorization": f"Bearer {spine.token(Role.PRODUCER)}"},
        timeout=30,
    )
    assert deleted.status_code == 200
    refused = spine.publish(customer(), Role.PRODUCER)
    assert (refused.status_code, refused.json()["error_code"]) == (403, 40310), refused.text


def test_security_declassification_is_audited_in_the_residency_log_before_it_commits(spine: Spine) -> None:
    spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0")
    accepted = spine.publish(customer("PII"), Role.SECURITY)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    [record] = spine.declassification_records()
    assert {k: record[k] for k in ("subject", "version", "semver", "schema_id", "actor")} == {
        "subject": SUBJECT,
        "version": body["version"],
        "semver": body["semver"],
        "schema_id": body["id"],
        "actor": "test-security",
    }
    assert record["fields"] == [{"field": "email", "removed_tags": ["PII.email"], "now": "email"}]
    assert "@" not in json.dumps(record)


def test_declassification_fails_closed_when_the_gate_is_down_or_not_configured(
    spine: Spine, tmp_path: Path
) -> None:
    spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0")
    spine.gate.stop()
    down = spine.publish(customer(), Role.ADMIN)
    assert (down.status_code, down.json()["error_code"]) == (503, 50310), down.text
    assert "unreachable" in down.json()["message"]
    assert spine.versions() == [1]
    url, server = run_registry(tmp_path, None)
    try:
        unset = httpx.post(
            f"{url}/schemas/{SUBJECT}",
            json={"schema": customer()},
            headers={"Authorization": f"Bearer {spine.token(Role.ADMIN)}"},
            timeout=30,
        )
    finally:
        server.should_exit = True
    assert (unset.status_code, unset.json()["error_code"]) == (503, 50310), unset.text
    assert "no residency gate is configured" in unset.json()["message"]


def test_gate_refusing_the_audit_refuses_the_declassification(tmp_path: Path) -> None:
    """A gate with its own token store does not know the caller: the registry refuses, commits nothing."""
    gate = start_gate(tmp_path / "gate")
    url, server = run_registry(tmp_path / "registry", gate.url)
    try:
        tokens = make_tokens(tmp_path / "registry")
        headers = tokens.header("admin")
        first = httpx.post(
            f"{url}/schemas/{SUBJECT}", json={"schema": customer("PII.email")}, headers=headers
        )
        assert first.status_code == 200, first.text
        refused = httpx.post(f"{url}/schemas/{SUBJECT}", json={"schema": customer()}, headers=headers)
        assert (refused.status_code, refused.json()["error_code"]) == (403, 40311), refused.text
        assert "refused to audit" in refused.json()["message"]
        assert httpx.get(f"{url}/subjects/{SUBJECT}/versions").json() == [1]
    finally:
        server.should_exit = True
        gate.stop()


def test_confluent_client_producer_cannot_declassify_but_security_can(spine: Spine) -> None:
    producer = spine.sr_client(Role.PRODUCER)
    producer.register_schema(SUBJECT, Schema(customer("PII.email"), "AVRO"))
    with pytest.raises(SchemaRegistryError) as refused:
        producer.register_schema(SUBJECT, Schema(customer(), "AVRO"))
    assert (refused.value.http_status_code, refused.value.error_code) == (403, 40310)
    assert "PII.email" in refused.value.error_message
    assert spine.declassification_records() == []
    schema_id = spine.sr_client(Role.SECURITY).register_schema(SUBJECT, Schema(customer(), "AVRO"))
    [record] = spine.declassification_records()
    assert (record["schema_id"], record["version"], record["actor"]) == (schema_id, 2, "test-security")


def permanently_delete(spine: Spine, role: Role = Role.PRODUCER) -> None:
    headers = {"Authorization": f"Bearer {spine.token(role)}"}
    for permanent in (False, True):
        deleted = httpx.delete(
            f"{spine.registry}/subjects/{SUBJECT}",
            params={"permanent": permanent},
            headers=headers,
            timeout=30,
        )
        assert deleted.status_code == 200, deleted.text


def test_producer_cannot_launder_a_tag_through_a_permanent_delete(spine: Spine) -> None:
    """A producer may delete a subject for good, but its fields' tags outlive it: republishing them weaker is
    a declassification against the tags remembered, on either API."""
    spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0")
    permanently_delete(spine)
    assert spine.versions() == []
    refused = spine.publish(customer(), Role.PRODUCER, "2.0.0")
    assert (refused.status_code, refused.json()["error_code"]) == (403, 40310), refused.text
    assert "field 'email' loses tag PII.email" in refused.json()["message"]
    assert "permanently deleted" in refused.json()["message"]
    renamed = spine.publish(customer(name="contact", aliases=("email",)), Role.PRODUCER, "2.0.0")
    assert (renamed.status_code, renamed.json()["error_code"]) == (403, 40310), renamed.text
    with pytest.raises(SchemaRegistryError) as confluent:
        spine.sr_client(Role.PRODUCER).register_schema(SUBJECT, Schema(customer("PII"), "AVRO"))
    assert (confluent.value.http_status_code, confluent.value.error_code) == (403, 40310)
    assert spine.versions() == []
    kept = spine.publish(customer("PII.email"), Role.PRODUCER, "2.0.0")
    assert (kept.status_code, kept.json()["version"]) == (200, 1), kept.text
    assert spine.declassification_records() == []


def test_a_field_removed_before_a_permanent_delete_keeps_its_last_tags(spine: Spine) -> None:
    spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0")
    without_email = json.dumps(
        {
            "type": "record",
            "name": "Customer",
            "namespace": "sales",
            "fields": [{"name": "id", "type": "string"}],
        }
    )
    assert spine.publish(without_email, Role.PRODUCER, "2.0.0").status_code == 200
    permanently_delete(spine)
    refused = spine.publish(customer(), Role.PRODUCER, "3.0.0")
    assert (refused.status_code, refused.json()["error_code"]) == (403, 40310), refused.text


def test_security_republishing_weaker_tags_after_a_permanent_delete_is_audited_and_remembered(
    spine: Spine,
) -> None:
    spine.publish(customer("PII.email"), Role.PRODUCER, "1.0.0")
    permanently_delete(spine)
    accepted = spine.publish(customer("PII"), Role.SECURITY, "2.0.0")
    assert accepted.status_code == 200, accepted.text
    [record] = spine.declassification_records()
    assert (record["version"], record["semver"], record["actor"]) == (1, "2.0.0", "test-security")
    assert record["fields"] == [{"field": "email", "removed_tags": ["PII.email"], "now": "email"}]
    permanently_delete(spine)
    # The accepted declassification is now the tags remembered: PII stays, PII.email is no longer owed.
    again = spine.publish(customer("PII"), Role.PRODUCER, "3.0.0")
    assert again.status_code == 200, again.text
    assert len(spine.declassification_records()) == 1
