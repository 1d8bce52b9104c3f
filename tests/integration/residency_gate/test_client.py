"""The fail-closed client against a real gate, a port with nothing listening, a silent server, a stopped gate,
and a gate whose database fails (5xx)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from residency_gate.client import UNREACHABLE, GateApi, GateClient, GateUnavailableError
from residency_gate.evaluate import Decision, FieldTag, Outcome, Route
from spine.auth import Role
from spine.broker import free_port
from tests.integration.residency_gate.gate import Gate, start_gate

pytestmark = pytest.mark.integration

ALLOWED = Route("sales.orders", sink="us-analytics")
REDACTED = Route("crm.customers", destination_region="us", fields=(FieldTag("email", ("PII.email",)),))


def assert_denied_unreachable(decisions: list[Decision], count: int) -> None:
    assert len(decisions) == count
    for decision in decisions:
        assert decision.outcome is Outcome.DENY
        assert not decision.allowed
        assert decision.reasons[0].startswith(f"{UNREACHABLE}: ")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections but never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_the_client_returns_the_gates_decisions(gate: Gate) -> None:
    with GateClient(gate.url, gate.tokens[Role.PRODUCER]) as client:
        single = client.evaluate(ALLOWED)
        batch = client.evaluate_batch([ALLOWED, REDACTED, Route("nope", destination_region="eu")])
    assert single.outcome is Outcome.ALLOW
    assert [d.outcome for d in batch] == [Outcome.ALLOW, Outcome.ALLOW_WITH_REDACTION, Outcome.DENY]
    assert batch[1].redactions[0].field == "email"
    assert not single.decision_id.startswith("local-")


def test_nothing_listening_means_deny_not_an_exception() -> None:
    with GateClient(f"http://127.0.0.1:{free_port()}", "spn_x", timeout=2.0) as client:
        decisions = client.evaluate_batch([ALLOWED, REDACTED])
        single = client.evaluate(ALLOWED)
    assert_denied_unreachable([*decisions, single], 3)


def test_a_gate_that_does_not_answer_in_time_means_deny(silent_port: int) -> None:
    with GateClient(f"http://127.0.0.1:{silent_port}", "spn_x", timeout=0.5) as client:
        decisions = client.evaluate_batch([ALLOWED])
    assert_denied_unreachable(list(decisions), 1)
    assert "Timeout" in decisions[0].reasons[0]


def test_a_gate_stopped_mid_way_means_deny_from_then_on(tmp_path: Path) -> None:
    gate = start_gate(tmp_path)
    client = GateClient(gate.url, gate.tokens[Role.PRODUCER], timeout=2.0)
    try:
        assert client.evaluate(ALLOWED).outcome is Outcome.ALLOW
        gate.stop()
        assert_denied_unreachable([client.evaluate(ALLOWED)], 1)
    finally:
        client.close()
        gate.stop()


def test_a_gate_answering_5xx_means_deny(gate: Gate) -> None:
    db = gate.home / "residency" / "gate.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_records"))
    engine.dispose()
    with GateClient(gate.url, gate.tokens[Role.PRODUCER]) as client:
        decisions = client.evaluate_batch([ALLOWED, ALLOWED])
    assert_denied_unreachable(list(decisions), 2)
    assert "HTTP 503" in decisions[0].reasons[0]


def test_a_refused_request_is_denied_too(gate: Gate) -> None:
    with GateClient(gate.url, "spn_not_a_token") as client:
        decision = client.evaluate(ALLOWED)
    assert decision.outcome is Outcome.DENY
    assert "HTTP 401" in decision.reasons[0]


def test_the_tool_client_raises_unavailable_when_nothing_listens() -> None:
    with (
        GateApi(f"http://127.0.0.1:{free_port()}", None, timeout=2.0) as api,
        pytest.raises(GateUnavailableError),
    ):
        api.policy()


def test_a_batch_larger_than_one_request_is_split_and_answered_in_order(gate: Gate) -> None:
    routes = [Route("sales.orders", sink="us-analytics", purpose=f"p{i}") for i in range(2500)]
    with GateClient(gate.url, gate.tokens[Role.PRODUCER], timeout=30.0) as client:
        decisions = client.evaluate_batch(routes)
    assert [d.route.purpose for d in decisions] == [f"p{i}" for i in range(2500)]
    assert {d.outcome for d in decisions} == {Outcome.ALLOW}
