"""Routes naming a registry schema, against the real registry and the real gate: the schema's field tags
decide redactions, the audit record names the subject and version used, and trouble with the registry
denies the route (fail closed)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from cli.main import app as spine_app
from residency_gate.client import GateClient
from residency_gate.evaluate import Outcome, Route, SchemaRef
from residency_gate.tags import RegistryTags, TagLookupError
from spine.auth import Role
from tests.integration.registry.conftest import Tokens, build_app, make_tokens, serve_in_thread
from tests.integration.residency_gate.gate import Gate, start_gate

pytestmark = pytest.mark.integration

EXAMPLE_MATRIX = Path(__file__).parents[3] / "examples" / "residency" / "matrix.yaml"
SUBJECT = "sales.orders-value"


def order_schema(*, with_phone: bool = False) -> str:
    fields: list[dict[str, Any]] = [
        {"name": "order_id", "type": "string"},
        {"name": "customer_email", "type": "string", "confluent:tags": ["PII.email"]},
        {"name": "amount", "type": "long"},
    ]
    if with_phone:
        fields.append(
            {
                "name": "customer_phone",
                "type": ["null", "string"],
                "default": None,
                "confluent:tags": ["PII.phone"],
            }
        )
    return json.dumps({"type": "record", "name": "Order", "namespace": "sales", "fields": fields})


@dataclass
class Registry:
    url: str
    tokens: Tokens
    server: uvicorn.Server
    thread: threading.Thread

    def publish(self, subject: str, schema: str) -> int:
        response = httpx.post(
            f"{self.url}/subjects/{subject}/versions",
            json={"schema": schema},
            headers=self.tokens.header("producer"),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        versions = httpx.get(f"{self.url}/subjects/{subject}/versions", timeout=30).json()
        return int(versions[-1])

    def tag_lookups(self) -> int:
        """Successful GETs the registry has answered (each scrape counts itself after it is answered)."""
        text = httpx.get(f"{self.url}/metrics", timeout=30).text
        match = re.search(r'spine_http_requests_total\{[^}]*method="GET"[^}]*status="200"[^}]*\} (\S+)', text)
        return int(float(match.group(1))) if match else 0

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    home = tmp_path / "registry"
    tokens = make_tokens(home)
    url, server, thread = serve_in_thread(build_app(home))
    running = Registry(url, tokens, server, thread)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def tagged_gate(tmp_path: Path, registry: Registry) -> Iterator[Gate]:
    """A gate reading tags from ``registry``, with the example matrix pushed as its policy."""
    gate = start_gate(tmp_path / "gate", policy_file=None, registry_url=registry.url)
    try:
        pushed = gate.post(
            "/v1/policy",
            content=EXAMPLE_MATRIX.read_bytes(),
            params={"source": "examples/residency/matrix.yaml"},
            headers={"Content-Type": "application/yaml", **gate.headers(Role.ADMIN)},
        )
        assert pushed.status_code == 201, pushed.text
        yield gate
    finally:
        gate.stop()


def evaluate(gate: Gate, *routes: dict[str, Any]) -> list[dict[str, Any]]:
    response = gate.post("/v1/evaluate", role=Role.PRODUCER, json={"routes": list(routes)})
    assert response.status_code == 200, response.text
    decisions: list[dict[str, Any]] = response.json()["decisions"]
    return decisions


def audit_record(gate: Gate, decision_id: str) -> dict[str, Any]:
    response = gate.get("/v1/audit", role=Role.SECURITY, params={"decision_id": decision_id})
    assert response.status_code == 200, response.text
    [record] = response.json()["records"]
    return dict(record)


def orders_route(version: int | str = "latest", **extra: Any) -> dict[str, Any]:
    return {
        "dataset": "sales.orders",
        "sink": "analytics-us",
        "schema": {"subject": SUBJECT, "version": version},
        **extra,
    }


def test_schema_tagged_pii_email_field_is_dropped_and_audited_with_subject_and_version(
    registry: Registry, tagged_gate: Gate
) -> None:
    version = registry.publish(SUBJECT, order_schema())
    [decision] = evaluate(tagged_gate, orders_route())
    assert decision["outcome"] == Outcome.ALLOW_WITH_REDACTION.value
    assert [(r["field"], r["action"], r["tags"]) for r in decision["redactions"]] == [
        ("customer_email", "drop", ["PII.email"])
    ]
    record = audit_record(tagged_gate, decision["decision_id"])
    assert record["route"]["schema"] == {
        "subject": SUBJECT,
        "version": version,
        "id": schema_id(registry, version),
    }
    assert record["route"]["fields"] == [{"name": "customer_email", "tags": ["PII.email"]}]
    assert record["redactions"] == [{"field": "customer_email", "action": "drop", "tags": ["PII.email"]}]
    assert record["outcome"] == "allow_with_redaction"


def test_numbered_version_uses_that_versions_tags_and_latest_the_newest(
    registry: Registry, tagged_gate: Gate
) -> None:
    first = registry.publish(SUBJECT, order_schema())
    second = registry.publish(SUBJECT, order_schema(with_phone=True))
    old, new = evaluate(tagged_gate, orders_route(first), orders_route("latest"))
    assert [r["field"] for r in old["redactions"]] == ["customer_email"]
    assert [r["field"] for r in new["redactions"]] == ["customer_email", "customer_phone"]
    assert audit_record(tagged_gate, new["decision_id"])["route"]["schema"]["version"] == second


def test_explicit_fields_add_tags_to_the_schema_but_never_remove_them(
    registry: Registry, tagged_gate: Gate
) -> None:
    registry.publish(SUBJECT, order_schema())
    fields = [{"name": "customer_email", "tags": ["PII"]}, {"name": "note", "tags": ["PII.phone"]}]
    [decision] = evaluate(tagged_gate, orders_route(fields=fields))
    assert [(r["field"], r["tags"]) for r in decision["redactions"]] == [
        ("customer_email", ["PII.email", "PII"]),
        ("note", ["PII.phone"]),
    ]


@pytest.mark.parametrize(
    "fields",
    [
        [{"name": "customer_email", "tags": []}],
        [{"name": "order_id", "tags": []}],
        [],
    ],
    ids=["email-listed-untagged", "only-untagged-fields", "no-fields"],
)
def test_a_caller_cannot_declassify_a_field_the_registry_tags(
    registry: Registry, tagged_gate: Gate, fields: list[dict[str, Any]]
) -> None:
    registry.publish(SUBJECT, order_schema())
    with_schema, without_schema = evaluate(
        tagged_gate,
        orders_route(fields=fields),
        {"dataset": "sales.orders", "sink": "analytics-us", "fields": fields},
    )
    for decision in (with_schema, without_schema):
        assert decision["outcome"] == "allow_with_redaction", decision["reasons"]
        assert [r["field"] for r in decision["redactions"]] == ["customer_email"]


def test_a_dataset_tied_to_a_subject_reads_its_tags_from_the_registry_unasked(
    registry: Registry, tagged_gate: Gate
) -> None:
    version = registry.publish(SUBJECT, order_schema())
    [decision] = evaluate(tagged_gate, {"dataset": "sales.orders", "sink": "analytics-us"})
    assert [r["field"] for r in decision["redactions"]] == ["customer_email"]
    record = audit_record(tagged_gate, decision["decision_id"])
    assert record["route"]["schema"] == {
        "subject": SUBJECT,
        "version": version,
        "id": schema_id(registry, version),
    }
    [other] = evaluate(tagged_gate, orders_route(schema={"subject": "crm.customers-value", "version": 1}))
    assert other["outcome"] == "deny"


def test_a_dataset_tied_to_a_subject_is_denied_when_the_registry_is_down(
    registry: Registry, tagged_gate: Gate
) -> None:
    registry.publish(SUBJECT, order_schema())
    registry.stop()
    [decision] = evaluate(tagged_gate, {"dataset": "sales.orders", "sink": "analytics-us", "fields": []})
    assert decision["outcome"] == "deny"
    assert decision["reasons"][0].startswith(f"field tags of schema {SUBJECT} version latest unavailable")


def test_a_batch_reads_each_distinct_schema_version_once(registry: Registry, tagged_gate: Gate) -> None:
    first = registry.publish(SUBJECT, order_schema())
    registry.publish(SUBJECT, order_schema(with_phone=True))
    before = registry.tag_lookups()
    decisions = evaluate(tagged_gate, *[orders_route(v) for v in (first, "latest") * 5])
    assert len(decisions) == 10
    assert registry.tag_lookups() - before - 1 == 2
    before = registry.tag_lookups()
    evaluate(tagged_gate, orders_route(first))
    assert registry.tag_lookups() - before - 1 == 0


def test_unknown_subject_is_denied_naming_it(tagged_gate: Gate) -> None:
    [decision] = evaluate(tagged_gate, orders_route(schema={"subject": "no.such-value", "version": 1}))
    assert decision["outcome"] == "deny"
    [reason] = decision["reasons"]
    assert reason.startswith(
        "field tags of schema no.such-value version 1 unavailable: not found in the registry"
    )
    record = audit_record(tagged_gate, decision["decision_id"])
    assert record["outcome"] == "deny"
    assert record["route"]["schema"] == {"subject": "no.such-value", "version": 1}


def test_unknown_version_is_denied(registry: Registry, tagged_gate: Gate) -> None:
    registry.publish(SUBJECT, order_schema())
    [decision] = evaluate(tagged_gate, orders_route(7))
    assert decision["outcome"] == "deny"
    assert decision["reasons"][0].startswith(
        f"field tags of schema {SUBJECT} version 7 unavailable: not found"
    )


def test_stopped_registry_denies_with_a_reason_naming_the_subject(
    registry: Registry, tagged_gate: Gate
) -> None:
    registry.publish(SUBJECT, order_schema())
    registry.stop()
    [decision] = evaluate(tagged_gate, orders_route())
    assert decision["outcome"] == "deny"
    assert decision["redactions"] == []
    assert decision["reasons"][0].startswith(
        f"field tags of schema {SUBJECT} version latest unavailable: registry unreachable at {registry.url}"
    )
    assert audit_record(tagged_gate, decision["decision_id"])["outcome"] == "deny"


def test_registry_answering_something_else_denies(tmp_path: Path, registry: Registry) -> None:
    """A gate pointed at a server that is not a registry (another gate) denies, it never allows."""
    other = start_gate(tmp_path / "other")
    gate = start_gate(tmp_path / "gate", policy_file=EXAMPLE_MATRIX, registry_url=other.url)
    try:
        [decision] = evaluate(gate, orders_route(1))
    finally:
        gate.stop()
        other.stop()
    assert decision["outcome"] == "deny"
    assert decision["reasons"][0].startswith(f"field tags of schema {SUBJECT} version 1 unavailable: ")


def test_fail_closed_client_gets_the_schema_version_used(registry: Registry, tagged_gate: Gate) -> None:
    version = registry.publish(SUBJECT, order_schema())
    route = Route("sales.orders", sink="analytics-us", schema=SchemaRef(SUBJECT, "latest"))
    with GateClient(tagged_gate.url, tagged_gate.tokens[Role.PRODUCER]) as client:
        decision = client.evaluate(route)
    assert decision.outcome is Outcome.ALLOW_WITH_REDACTION
    assert decision.route.schema == SchemaRef(SUBJECT, version, schema_id(registry, version))


def test_numbered_versions_are_cached_and_latest_is_read_again(registry: Registry) -> None:
    version = registry.publish(SUBJECT, order_schema())
    with RegistryTags(registry.url, latest_ttl=0.0) as tags:
        assert [f.name for f in tags.lookup(SchemaRef(SUBJECT, version)).fields] == ["customer_email"]
        assert tags.lookup(SchemaRef(SUBJECT, "latest")).version == version
        registry.stop()
        assert tags.lookup(SchemaRef(SUBJECT, version)).version == version
        with pytest.raises(TagLookupError, match="registry unreachable"):
            tags.lookup(SchemaRef(SUBJECT, "latest"))


def test_cli_evaluate_with_subject_shows_the_redaction(
    registry: Registry, tagged_gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = registry.publish(SUBJECT, order_schema())
    monkeypatch.setenv("SPINE_RESIDENCY_URL", tagged_gate.url)
    monkeypatch.setenv("SPINE_TOKEN", tagged_gate.tokens[Role.PRODUCER])
    monkeypatch.setenv("SPINE_HOME", str(tagged_gate.home))
    runner = CliRunner()
    base = ["residency", "evaluate", "--dataset", "sales.orders", "--sink", "analytics-us", "--json"]
    result = runner.invoke(spine_app, [*base, "--subject", SUBJECT, "--schema-version", str(version)])
    assert result.exit_code == 0, result.output
    [decision] = json.loads(result.stdout)["decisions"]
    assert [r["field"] for r in decision["redactions"]] == ["customer_email"]
    assert decision["route"]["schema"] == {
        "subject": SUBJECT,
        "version": version,
        "id": schema_id(registry, version),
    }
    denied = runner.invoke(spine_app, [*base, "--subject", "no.such-value"])
    assert denied.exit_code == 1
    bad = runner.invoke(spine_app, [*base, "--subject", SUBJECT, "--schema-version", "newest"])
    assert bad.exit_code == 2
    assert "--schema-version 'newest'" in bad.stderr


def schema_id(registry: Registry, version: int) -> int:
    answer = httpx.get(f"{registry.url}/subjects/{SUBJECT}/versions/{version}", timeout=30)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["id"])


def purge_subject(registry: Registry) -> None:
    for permanent in (False, True):
        deleted = httpx.delete(
            f"{registry.url}/subjects/{SUBJECT}",
            params={"permanent": permanent},
            headers=registry.tokens.header("producer"),
            timeout=30,
        )
        assert deleted.status_code == 200, deleted.text


def redacted(decision: dict[str, Any]) -> list[str]:
    return [r["field"] for r in decision["redactions"]]


def test_a_route_stating_its_schema_id_is_never_answered_with_a_purged_versions_tags(
    registry: Registry, tagged_gate: Gate
) -> None:
    """Like Confluent's, the registry numbers a subject from 1 again after a permanent delete; the gate has
    cached the old version 1, but a route stating the schema id its records carry gets the new one's tags,
    and a route stating the purged schema's id is denied."""
    first = registry.publish(SUBJECT, order_schema())
    old_id = schema_id(registry, first)
    [before] = evaluate(tagged_gate, orders_route(first))
    assert redacted(before) == ["customer_email"]
    purge_subject(registry)
    assert registry.publish(SUBJECT, order_schema(with_phone=True)) == first == 1
    new_id = schema_id(registry, 1)
    assert new_id != old_id
    current, stale = evaluate(
        tagged_gate,
        orders_route(schema={"subject": SUBJECT, "version": 1, "id": new_id}),
        orders_route(schema={"subject": SUBJECT, "version": 1, "id": old_id}),
    )
    assert redacted(current) == ["customer_email", "customer_phone"]
    assert audit_record(tagged_gate, current["decision_id"])["route"]["schema"] == {
        "subject": SUBJECT,
        "version": 1,
        "id": new_id,
    }
    assert stale["outcome"] == "deny"
    assert f"version 1 is schema id {new_id}, not {old_id}" in stale["reasons"][0]


def test_a_gate_trusts_a_cached_numbered_version_only_for_its_version_ttl(
    tmp_path: Path, registry: Registry
) -> None:
    gate = start_gate(
        tmp_path / "gate", policy_file=EXAMPLE_MATRIX, registry_url=registry.url, registry_version_ttl=0.0
    )
    try:
        registry.publish(SUBJECT, order_schema())
        [before] = evaluate(gate, orders_route(1))
        purge_subject(registry)
        registry.publish(SUBJECT, order_schema(with_phone=True))
        [after] = evaluate(gate, orders_route(1))
    finally:
        gate.stop()
    assert redacted(before) == ["customer_email"]
    assert redacted(after) == ["customer_email", "customer_phone"]


def test_numbered_versions_are_cached_for_the_version_ttl_then_read_again(registry: Registry) -> None:
    now = [0.0]
    version = registry.publish(SUBJECT, order_schema())
    with RegistryTags(registry.url, version_ttl=60.0, clock=lambda: now[0]) as tags:
        assert tags.lookup(SchemaRef(SUBJECT, version)).version == version
        registry.stop()
        now[0] = 59.0
        assert tags.lookup(SchemaRef(SUBJECT, version)).version == version
        now[0] = 61.0
        with pytest.raises(TagLookupError, match="registry unreachable"):
            tags.lookup(SchemaRef(SUBJECT, version))
