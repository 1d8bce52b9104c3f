"""The example pipeline, connections, residency matrix and order schema, as compile inputs without servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oml.connections import Connections, parse_connections
from oml.context import StaticContext
from residency_gate.policy.loader import load_policy_file
from spine.registry_client import SubjectVersion

ROOT = Path(__file__).parents[3]
EXAMPLES = ROOT / "examples"
ENV = {"SPINE_TOKEN": "s3cr3t-token-value-42"}


def version_of(
    path: Path, subject: str, topic: str, *, version: int = 1, schema_id: int = 1
) -> SubjectVersion:
    text = path.read_text()
    fields = json.loads(text)["fields"]
    tags = tuple((f["name"], tuple(f["confluent:tags"])) for f in fields if f.get("confluent:tags"))
    return SubjectVersion(subject, version, schema_id, "AVRO", text, "1.0.0", topic, tags)


@pytest.fixture
def context() -> StaticContext:
    policy = load_policy_file(EXAMPLES / "residency" / "matrix.yaml")
    orders = version_of(EXAMPLES / "schemas" / "order.avsc", "sales.orders-value", "sales.orders.v1")
    paid = version_of(
        EXAMPLES / "schemas" / "paid-order.avsc",
        "analytics.paid_orders-value",
        "analytics.paid_orders.v1",
        schema_id=7,
    )
    return StaticContext(policy, {v.subject: v for v in (orders, paid)})


CONNECTIONS = """
connections:
  kafka:
    local: {default: true, bootstrap: "127.0.0.1:9092", token: "${SPINE_TOKEN}"}
  sql:
    analytics: {default: true, url: "sqlite:///analytics.db"}
"""


@pytest.fixture
def connections() -> Connections:
    """The example's connections with a secret (a token from the environment)."""
    parsed, issues = parse_connections(CONNECTIONS, "connections.yaml")
    assert issues == []
    return parsed


@pytest.fixture
def example_text() -> str:
    return (EXAMPLES / "pipelines" / "orders-analytics.oml.yaml").read_text()
