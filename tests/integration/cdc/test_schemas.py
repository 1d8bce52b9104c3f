"""Value schemas in the registry: an added nullable column is a MINOR version, a breaking change stops the
route (real PostgreSQL, real Debezium, the embedded broker, a real registry and residency gate)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from spine.auth import Role
from spine.headers import DlqHeaders
from spine.kafka import read_topic
from spine.registry_client import RegistryClient
from tests.integration.cdc.conftest import FINANCIAL_TO_US, MATRIX, CdcEnv, wait_for
from tests.integration.cdc.test_router import sink_rows
from tests.integration.registry.conftest import Tokens, build_app, make_tokens, serve_in_thread
from tests.integration.residency_gate.gate import Gate, start_gate

pytestmark = pytest.mark.integration

TOKEN_VAR = "CDC_TEST_REGISTRY_TOKEN"


@dataclass
class Registry:
    url: str
    tokens: Tokens

    def client(self) -> RegistryClient:
        return RegistryClient(self.url, self.tokens.consumer)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    home = tmp_path / "registry-home"
    home.mkdir()
    tokens = make_tokens(home)
    url, server, thread = serve_in_thread(build_app(home))
    try:
        yield Registry(url, tokens)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(MATRIX.format(version="1", extra=FINANCIAL_TO_US))
    running = start_gate(tmp_path / "gate-home", policy_file=matrix)
    try:
        yield running
    finally:
        running.stop()


def start_pipeline(env: CdcEnv, gate: Gate, registry: Registry) -> None:
    with env.routes_file.open("a") as out:
        out.write(f"registry:\n  url: {registry.url}\n  token: ${{{TOKEN_VAR}}}\n")
    secret = {TOKEN_VAR: registry.tokens.producer}
    env.start("cdc.source", "source.log", secret)
    env.start(
        "cdc.router",
        "router.log",
        {**secret, "SPINE_CDC_RESIDENCY_URL": gate.url, "SPINE_TOKEN": gate.tokens[Role.CONSUMER]},
    )
    env.wait_streaming()


def dead_letters(env: CdcEnv, table: str) -> list[DlqHeaders]:
    out = []
    for record in read_topic(env.kafka, f"{env.prefix}.public.{table}.dlq"):
        headers = DlqHeaders.from_kafka(record.headers())
        assert headers is not None
        out.append(headers)
    return out


def states(env: CdcEnv) -> dict[str, str]:
    args = ["cdc", "status", "--json", "--routes", str(env.routes_file)]
    result = CliRunner().invoke(app, args, env={TOKEN_VAR: "not-read-by-status"})
    assert result.exit_code == 0, result.output
    return {s["route"]: s["state"] for s in json.loads(result.output)}


def test_a_column_added_mid_stream_continues_as_a_minor_version_with_the_routes_tags(
    cdc_env: CdcEnv, gate: Gate, registry: Registry
) -> None:
    start_pipeline(cdc_env, gate, registry)
    subject = f"{cdc_env.prefix}.public.customers-value"
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 1)")
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 1, 90, "the first row", logs)
    with registry.client() as client:
        first = client.latest(subject)
        assert (first.version, first.semver) == (1, "1.0.0")
        assert dict(first.tags) == {"email": ("PII.email",)}  # the route's field tags
        fields = {f["name"]: f for f in json.loads(first.schema)["fields"]}
        assert fields["id"]["type"] == "int"
        assert fields["email"]["type"] == ["null", "string"]
        assert "tier" not in fields

        cdc_env.sql("ALTER TABLE customers ADD COLUMN tier text")
        cdc_env.sql("INSERT INTO customers VALUES (2, 'Bob', 'bob@example.org', 'FR', 2, 'gold')")
        wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 2, 60, "the row with the new column", logs)
        second = client.latest(subject)
        assert (second.version, second.semver) == (2, "1.1.0")  # MINOR, on the same governed topic
        assert second.topic == first.topic
        added = {f["name"]: f for f in json.loads(second.schema)["fields"]}["tier"]
        assert added["type"] == ["null", "string"]
        assert added["default"] is None
    assert [r["tier"] for r in sink_rows(cdc_env, "customers")] == [None, "gold"]
    assert dead_letters(cdc_env, "customers") == []
    assert states(cdc_env)["customers"] == "streaming"


def test_a_narrowed_column_type_stops_the_route_and_dead_letters_its_events_until_resumed(
    cdc_env: CdcEnv, gate: Gate, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_pipeline(cdc_env, gate, registry)
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    cdc_env.sql("INSERT INTO payments VALUES (1, 1, 9.99, '4111')")
    wait_for(lambda: len(sink_rows(cdc_env, "payments")) == 1, 90, "the first payment", logs)
    cdc_env.sql("ALTER TABLE payments ALTER COLUMN id TYPE integer")  # bigint -> integer: long -> int
    cdc_env.sql("INSERT INTO payments VALUES (2, 1, 5.00, '4222')")
    cdc_env.sql("INSERT INTO payments VALUES (3, 1, 6.00, '4333')")
    wait_for(lambda: len(dead_letters(cdc_env, "payments")) >= 2, 60, "two dead letters", logs)
    letters = dead_letters(cdc_env, "payments")
    assert {h.stage for h in letters} == {"schema"}
    assert {h.route for h in letters} == {"payments"}
    assert "reader type int cannot read writer type long" in letters[0].reason
    assert [r["id"] for r in sink_rows(cdc_env, "payments")] == [1]  # never coerced into the sink
    with registry.client() as client:
        assert len(client.versions(f"{cdc_env.prefix}.public.payments-value")) == 1
    state = states(cdc_env)
    assert state["payments"].startswith("route payments stopped: registry refused the schema")
    # The other route goes on.
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 1)")
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 1, 60, "a customer after the stop", logs)
    assert state["customers"] == "streaming"
    # Replay never lands a stopped route's rows (that would be the silent coercion the stop prevents).
    for name, value in {
        "SPINE_HOME": str(cdc_env.home),
        "SPINE_KAFKA_BOOTSTRAP": cdc_env.kafka.bootstrap_or_raise(),
        "SPINE_RESIDENCY_URL": gate.url,
        "SPINE_TOKEN": gate.tokens[Role.ADMIN],
        TOKEN_VAR: registry.tokens.producer,
    }.items():
        monkeypatch.setenv(name, value)
    args = ["cdc", "dlq", "replay", "payments", "--routes", str(cdc_env.routes_file)]
    replayed = CliRunner().invoke(app, args)
    assert replayed.exit_code == 1, replayed.output
    assert f"{len(letters)} refused" in replayed.output
    assert [r["id"] for r in sink_rows(cdc_env, "payments")] == [1]
    # The source is fixed; what arrives before the resume still waits in the DLQ, what comes after lands,
    # and a replay then lands the waiting row (the narrowed rows stay refused).
    cdc_env.sql("ALTER TABLE payments ALTER COLUMN id TYPE bigint")
    cdc_env.sql("INSERT INTO payments VALUES (4, 1, 7.00, '4444')")
    wait_for(lambda: len(dead_letters(cdc_env, "payments")) >= 3, 60, "the stopped route's letter", logs)
    resume = ["cdc", "resume", "payments", "--routes", str(cdc_env.routes_file)]
    resumed = CliRunner().invoke(app, resume)
    assert resumed.exit_code == 0, resumed.output
    assert "route payments resumed (it was stopped: registry refused the schema" in resumed.output
    again = CliRunner().invoke(app, resume)
    assert again.exit_code == 2
    assert "route payments is not stopped" in again.output
    cdc_env.sql("INSERT INTO payments VALUES (5, 1, 8.00, '4555')")
    wait_for(lambda: len(sink_rows(cdc_env, "payments")) == 2, 60, "a payment after the resume", logs)
    assert states(cdc_env)["payments"] == "streaming"
    replayed = CliRunner().invoke(app, args)
    assert replayed.exit_code == 1, replayed.output
    assert f"{len(letters)} refused" in replayed.output
    assert [r["id"] for r in sink_rows(cdc_env, "payments")] == [1, 4, 5]


def test_a_dropped_required_column_stops_the_route(cdc_env: CdcEnv, gate: Gate, registry: Registry) -> None:
    start_pipeline(cdc_env, gate, registry)
    logs = lambda: cdc_env.log("router.log")[-3000:]  # noqa: E731
    cdc_env.sql("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 1)")
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 1, 90, "the first row", logs)
    cdc_env.sql("ALTER TABLE customers DROP COLUMN name")  # NOT NULL: no default in the schema
    cdc_env.sql("INSERT INTO customers VALUES (2, 'bob@example.org', 'FR', 2)")
    wait_for(lambda: len(dead_letters(cdc_env, "customers")) >= 1, 60, "the dead letter", logs)
    (letter,) = dead_letters(cdc_env, "customers")
    assert letter.stage == "schema"
    assert "column(s) name dropped without a default" in letter.reason
    assert letter.error_code == "SCHEMA_BREAKING"
    assert [r["id"] for r in sink_rows(cdc_env, "customers")] == [1]
    assert "stopped" in states(cdc_env)["customers"]
