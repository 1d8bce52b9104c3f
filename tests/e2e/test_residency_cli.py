"""The residency gate as a user meets it: ``spine up`` starts it; ``spine residency`` and ``spine audit``
drive it as separate processes, with the admin token of ``spine up`` and a port offset as configuration."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from spine.broker import port_is_free
from spine.kafka import Admin, TopicSpec
from spine.settings import DEFAULT_PORTS, KafkaSettings

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "residency"


def free_offset() -> int:
    for _ in range(200):
        offset = random.randrange(12000, 23000)
        if all(port_is_free("127.0.0.1", p + offset) for p in DEFAULT_PORTS.values()):
            return offset
    raise RuntimeError("no free port range")


class Spine:
    def __init__(self, home: Path, offset: int) -> None:
        self.home = home
        self.offset = offset

    def __call__(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
        env.update(SPINE_HOME=str(self.home), SPINE_PORT_OFFSET=str(self.offset), COLUMNS="200")
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def spine(tmp_path: Path) -> Iterator[Spine]:
    runner = Spine(tmp_path / "spine-home", free_offset())
    up = runner("up", "--detach")
    assert up.returncode == 0, up.stderr + up.stdout
    try:
        yield runner
    finally:
        runner("down")


def test_a_security_reviewer_pushes_a_policy_decides_routes_scans_and_verifies_the_log(
    spine: Spine, tmp_path: Path
) -> None:
    status = json.loads(spine("status", "--json").stdout)
    gate = next(s for s in status if s["name"] == "residency-gate")
    assert gate["healthy"] is True

    pushed = spine("residency", "policy", "push", str(EXAMPLES / "matrix.yaml"), "--json")
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["changed"] is True

    schema = EXAMPLES.parent / "schemas" / "order.avsc"
    published = spine("schema", "publish", str(schema), "-s", "sales.orders-value")
    assert published.returncode == 0, published.stderr + published.stdout
    # sales.orders is tied to sales.orders-value in the matrix: its tags come from the registry unasked.
    redacted = spine(
        "residency", "evaluate", "--dataset", "sales.orders", "--sink", "analytics-us",
        "--field", "customer_email:", "--json",
    )  # fmt: skip
    assert redacted.returncode == 0, redacted.stderr
    decision = json.loads(redacted.stdout)["decisions"][0]
    assert decision["outcome"] == "allow_with_redaction"
    denied = spine("residency", "evaluate", "--dataset", "billing.payments", "--to", "us-east")
    assert denied.returncode == 1
    assert "DENY" in denied.stdout

    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{DEFAULT_PORTS['broker'] + spine.offset}")
    Admin(kafka).create_topics([TopicSpec("shadow.leads.v1"), TopicSpec("sales.orders.v1")])
    scanned = spine("residency", "scan", "--json")
    assert scanned.returncode == 1, scanned.stderr
    assert [f["subject"] for f in json.loads(scanned.stdout)["findings"]] == ["shadow.leads.v1"]

    shown = spine("audit", "show", decision["decision_id"], "--json")
    assert json.loads(shown.stdout)["records"][0]["redactions"][0]["field"] == "customer_email"
    tail = spine("audit", "tail", "-n", "3")
    assert tail.returncode == 0
    assert "finding" in tail.stdout

    out = tmp_path / "review" / "audit.jsonl"
    out.parent.mkdir()
    exported = spine("audit", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    offline = spine(
        "audit", "verify", "--file", str(out),
        "--checkpoints", str(out.with_name("audit.checkpoints.jsonl")),
        "--public-key", str(out.with_name("audit.public-key.pem")),
    )  # fmt: skip
    assert offline.returncode == 0, offline.stderr
    assert spine("audit", "verify").returncode == 0


def test_commands_exit_3_when_the_gate_is_not_running(tmp_path: Path) -> None:
    runner = Spine(tmp_path / "no-spine", free_offset())
    assert runner("residency", "policy", "show").returncode == 3
    assert runner("audit", "verify").returncode == 3
