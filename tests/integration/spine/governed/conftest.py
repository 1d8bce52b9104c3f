"""A real registry, a real residency gate reading its tags, and the session broker, for governed clients."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from residency_gate.client import GateClient
from spine.auth import Role
from spine.governed import governed_topic_specs
from spine.kafka import Admin
from spine.registry_client import RegistryClient
from spine.settings import KafkaSettings
from tests.integration.registry.conftest import Tokens, build_app, make_tokens, serve_in_thread
from tests.integration.residency_gate.gate import Gate, start_gate

MATRIX = """
version: "{version}"
regions: [eu-west, us-east, ap-south]
classifications: [PUBLIC, INTERNAL, PII, PII.email]
datasets:
  {dataset}: {{home: eu-west, classification: INTERNAL, subject: {dataset}-value}}
sinks:
  analytics-eu: {{region: eu-west, allowed_classifications: [PUBLIC, INTERNAL, PII]}}
  analytics-us: {{region: us-east, allowed_classifications: [PUBLIC, INTERNAL]}}
  reporting-ap: {{region: ap-south, allowed_classifications: [PUBLIC]}}
rules:
{rules}
"""
EU_RULES = """  - id: within-eu
    allow: {classification: INTERNAL, from: eu-west, to: eu-west}
  - id: pii-within-eu
    allow: {classification: PII, from: eu-west, to: eu-west}
"""
US_RULE = """  - id: eu-to-us-without-pii
    allow:
      classification: INTERNAL
      from: eu-west
      to: us-east
      redact: {fields_tagged: [PII], action: drop}
"""
AP_RULE = """  - id: nothing-to-ap
    deny: {classification: INTERNAL, to: ap-south}
"""


def avro_order(namespace: str = "test", *, extra: list[dict[str, Any]] | None = None) -> str:
    fields: list[dict[str, Any]] = [
        {"name": "order_id", "type": "string"},
        {"name": "customer_email", "type": "string", "confluent:tags": ["PII.email"]},
        {"name": "amount", "type": "long"},
        *(extra or []),
    ]
    return json.dumps({"type": "record", "name": "Order", "namespace": namespace, "fields": fields})


JSON_ORDER = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "customer_email": {"type": "string", "confluent:tags": ["PII.email"]},
            "amount": {"type": "integer"},
        },
        "required": ["order_id", "customer_email", "amount"],
        "additionalProperties": False,
    }
)
PROTO_ORDER = """syntax = "proto3";
package test.orders;

message Order {
  string order_id = 1;
  string customer_email = 2;
  int64 amount = 3;
}
"""


@dataclass
class GovernedSpine:
    kafka: KafkaSettings
    registry_url: str
    tokens: Tokens
    gate: Gate
    admin: Admin
    dataset: str
    home: Path
    clients: list[RegistryClient | GateClient] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"{self.dataset}-value"

    def registry_client(self, role: str = "producer") -> RegistryClient:
        client = RegistryClient(self.registry_url, getattr(self.tokens, role))
        self.clients.append(client)
        return client

    def gate_client(self, url: str | None = None) -> GateClient:
        client = GateClient(url or self.gate.url, self.gate.tokens[Role.CONSUMER], timeout=5.0)
        self.clients.append(client)
        return client

    def publish(self, schema: str, schema_type: str = "AVRO", version: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"schema": schema, "schemaType": schema_type}
        if version is not None:
            body["version"] = version
        response = httpx.post(
            f"{self.registry_url}/schemas/{self.subject}",
            json=body,
            headers=self.tokens.header("producer"),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        self.admin.create_topics(governed_topic_specs(str(answer["topic"]), partitions=1))
        return answer

    def push_policy(self, rules: str, version: str | None = None) -> None:
        text = MATRIX.format(version=version or uuid.uuid4().hex[:8], dataset=self.dataset, rules=rules)
        pushed = self.gate.post(
            "/v1/policy",
            content=text.encode(),
            params={"source": "test"},
            headers={"Content-Type": "application/yaml", **self.gate.headers(Role.ADMIN)},
        )
        assert pushed.status_code == 201, pushed.text

    def audit(self, decision_id: str) -> dict[str, Any]:
        response = self.gate.get("/v1/audit", role=Role.SECURITY, params={"decision_id": decision_id})
        assert response.status_code == 200, response.text
        [record] = response.json()["records"]
        return dict(record)


@contextmanager
def governed_spine(
    tmp_path: Path, kafka_settings: KafkaSettings, kafka_admin: Admin, *, relay_lineage: bool = False
) -> Iterator[GovernedSpine]:
    """With ``relay_lineage`` the gate relays its outbox (the runs' residency facets) to the broker."""
    home = tmp_path / "registry"
    tokens = make_tokens(home)
    url, server, thread = serve_in_thread(build_app(home))
    # One home: the registry and the gate share its token store, so one token works for both.
    gate = start_gate(
        home,
        policy_file=None,
        registry_url=url,
        registry_version_ttl=0,
        kafka=kafka_settings if relay_lineage else None,
    )
    dataset = f"t{uuid.uuid4().hex[:8]}.orders"
    running = GovernedSpine(kafka_settings, url, tokens, gate, kafka_admin, dataset, tmp_path / "home")
    running.push_policy(EU_RULES + US_RULE + AP_RULE)
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        gate.stop()
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def spine(tmp_path: Path, kafka_settings: KafkaSettings, kafka_admin: Admin) -> Iterator[GovernedSpine]:
    with governed_spine(tmp_path, kafka_settings, kafka_admin) as running:
        yield running
