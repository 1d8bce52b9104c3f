"""``spine residency`` and ``spine audit`` against a real gate: export, offline verify, the five tamper cases,
scan + quarantine + release on a real broker, policy push, evaluate, tail and show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from residency_gate.audit import canonical_json, seal
from spine.auth import Role
from spine.kafka import Admin, TopicSpec
from spine.settings import KafkaSettings
from tests.integration.residency_gate.gate import MATRIX, Gate, start_gate

pytestmark = pytest.mark.integration


@pytest.fixture
def spine_cli(gate: Gate, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SPINE_RESIDENCY_URL", gate.url)
    monkeypatch.setenv("SPINE_TOKEN", gate.tokens[Role.ADMIN])
    monkeypatch.setenv("SPINE_HOME", str(gate.home))
    return CliRunner()


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def make_export(gate: Gate, runner: CliRunner, where: Path) -> Path:
    """Nine decisions after the policy change (10 records), exported with checkpoints and key."""
    routes = [
        {"dataset": "sales.orders", "sink": "us-analytics"},
        {"dataset": "crm.customers", "sink": "us-analytics"},
        {
            "dataset": "crm.customers",
            "destination_region": "us",
            "fields": [{"name": "email", "tags": ["PII.email"]}],
        },
    ]
    for _ in range(3):
        assert gate.post("/v1/evaluate", json={"routes": routes}).status_code == 200
    out = where / "audit.jsonl"
    where.mkdir()
    result = run(
        runner,
        "audit",
        "export",
        "--format",
        "jsonl",
        "--out",
        str(out),
        "--url",
        gate.url,
        "--token",
        gate.tokens[Role.ADMIN],
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["records"] == 10
    return out


@pytest.fixture
def exported(gate: Gate, spine_cli: CliRunner, tmp_path: Path) -> Path:
    return make_export(gate, spine_cli, tmp_path / "export")


def verify_file(runner: CliRunner, records: Path, *extra: str) -> Any:
    return run(
        runner,
        "audit",
        "verify",
        "--file",
        str(records),
        "--checkpoints",
        str(records.with_name("audit.checkpoints.jsonl")),
        "--public-key",
        str(records.with_name("audit.public-key.pem")),
        *extra,
    )


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def write(path: Path, content: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in content), encoding="utf-8")


def test_an_exported_log_verifies_offline_and_over_the_service(
    spine_cli: CliRunner, exported: Path, kafka_settings: KafkaSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(lines(exported)) == 10
    result = verify_file(spine_cli, exported)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    monkeypatch.setenv("SPINE_KAFKA_BOOTSTRAP", kafka_settings.bootstrap_or_raise())
    over_service = run(spine_cli, "audit", "verify", "--json")
    assert over_service.exit_code == 0, over_service.output
    assert json.loads(over_service.stdout)["ok"] is True
    # this gate has no broker, so nothing of its own is on _spine.audit: said, not passed over in silence
    assert "holds none of this gate's checkpoints" in over_service.stderr


def test_an_edited_record_is_tampered_and_named(spine_cli: CliRunner, exported: Path) -> None:
    content = lines(exported)
    record = json.loads(content[4])
    record["outcome"] = "deny" if record["outcome"] != "deny" else "allow"
    content[4] = canonical_json(record).decode()
    write(exported, content)
    result = verify_file(spine_cli, exported)
    assert result.exit_code == 1
    assert "record seq 4" in result.output


def test_a_deleted_record_is_tampered_and_named(spine_cli: CliRunner, exported: Path) -> None:
    content = lines(exported)
    del content[3]
    write(exported, content)
    result = verify_file(spine_cli, exported)
    assert result.exit_code == 1
    assert "record seq 3" in result.output


def test_reordered_records_are_tampered_and_named(spine_cli: CliRunner, exported: Path) -> None:
    content = lines(exported)
    content[5], content[6] = content[6], content[5]
    write(exported, content)
    result = verify_file(spine_cli, exported)
    assert result.exit_code == 1
    assert "record seq 5" in result.output


def test_a_truncated_tail_is_tampered_and_named(spine_cli: CliRunner, exported: Path) -> None:
    write(exported, lines(exported)[:8])
    result = verify_file(spine_cli, exported)
    assert result.exit_code == 1
    # the only checkpoint covers all ten records: none of the eight left is proven
    assert "record seq 0" in result.output
    assert "2 records are gone" in result.output


def test_an_emptied_checkpoints_file_leaves_the_whole_log_unsigned(
    spine_cli: CliRunner, exported: Path
) -> None:
    write(exported.with_name("audit.checkpoints.jsonl"), [])
    result = verify_file(spine_cli, exported)
    assert result.exit_code == 1
    assert "10 records (seq 0..9) are not covered by a signed checkpoint" in result.output
    allowed = verify_file(spine_cli, exported, "--allow-unsigned-tail")
    assert allowed.exit_code == 0, allowed.output
    assert "WARNING" in allowed.output
    assert "10 records (seq 0..9) are NOT covered by a signed checkpoint" in allowed.output


def test_a_trimmed_checkpoints_file_leaves_an_unsigned_tail(spine_cli: CliRunner, tmp_path: Path) -> None:
    fine = start_gate(tmp_path / "fine", checkpoint_every=2)
    try:
        exported = make_export(fine, spine_cli, tmp_path / "fine-export")
    finally:
        fine.stop()
    checkpoints = exported.with_name("audit.checkpoints.jsonl")
    assert [json.loads(c)["tree_size"] for c in lines(checkpoints)] == [4, 7, 10]
    write(checkpoints, lines(checkpoints)[:1])
    result = verify_file(spine_cli, exported, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["unverified_tail"] == 6
    assert "6 records (seq 4..9) are not covered" in result.output


def test_a_fully_rewritten_chain_is_caught_by_the_signed_checkpoints(
    spine_cli: CliRunner, tmp_path: Path
) -> None:
    fine = start_gate(tmp_path / "fine", checkpoint_every=2)
    try:
        exported = make_export(fine, spine_cli, tmp_path / "fine-export")
    finally:
        fine.stop()
    records = [json.loads(line) for line in lines(exported)]
    assert records[5]["outcome"] == "deny"
    records[5]["outcome"] = "allow"
    rewritten: list[dict[str, Any]] = records[:5]
    for record in records[5:]:
        body = {k: v for k, v in record.items() if k not in {"seq", "prev_hash", "hash"}}
        rewritten.append(seal(body, seq=record["seq"], prev_hash=rewritten[-1]["hash"]))
    write(exported, [canonical_json(r).decode() for r in rewritten])
    result = verify_file(spine_cli, exported)
    assert result.exit_code == 1
    # checkpoints were signed at 4, 7 and 10 records: the first one that fails bounds the rewrite
    assert "record seq 4" in result.output
    assert "rewritten" in result.output


def test_verify_names_a_missing_file_with_exit_2_and_an_unreachable_gate_with_3(
    spine_cli: CliRunner, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.jsonl"
    result = run(
        spine_cli,
        "audit",
        "verify",
        "--file",
        str(missing),
        "--checkpoints",
        str(missing),
        "--public-key",
        str(missing),
    )
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output
    unreachable = run(spine_cli, "audit", "verify", "--url", "http://127.0.0.1:9")
    assert unreachable.exit_code == 3


def test_a_csv_export_has_a_header_and_one_row_per_record(spine_cli: CliRunner, exported: Path) -> None:
    result = run(spine_cli, "audit", "export", "--format", "csv")
    assert result.exit_code == 0
    rows = result.output.splitlines()
    assert rows[0].startswith("seq,time,kind,decision_id")
    assert len(rows) == 1 + len(lines(exported))


def test_tail_and_show_find_the_records(spine_cli: CliRunner, gate: Gate) -> None:
    body = gate.post("/v1/evaluate", json={"dataset": "crm.customers", "sink": "us-analytics"}).json()
    decision_id = body["decisions"][0]["decision_id"]
    tailed = run(spine_cli, "audit", "tail", "-n", "1", "--json")
    assert json.loads(tailed.output)["records"][0]["decision_id"] == decision_id
    assert run(spine_cli, "audit", "tail").exit_code == 0
    shown = run(spine_cli, "audit", "show", decision_id, "--json")
    assert json.loads(shown.output)["records"][0]["outcome"] == "deny"
    assert run(spine_cli, "audit", "show", decision_id).exit_code == 0
    assert run(spine_cli, "audit", "show", "no-such-decision").exit_code == 1


def test_evaluate_prints_the_decision_and_exits_1_when_denied(spine_cli: CliRunner) -> None:
    allowed = run(spine_cli, "residency", "evaluate", "--dataset", "sales.orders", "--sink", "us-analytics")
    assert allowed.exit_code == 0, allowed.output
    assert "ALLOW" in allowed.output
    denied = run(spine_cli, "residency", "evaluate", "--dataset", "crm.customers", "--to", "us", "--json")
    assert denied.exit_code == 0
    redacted = run(
        spine_cli,
        "residency",
        "evaluate",
        "--dataset",
        "crm.customers",
        "--to",
        "us",
        "--field",
        "email:PII.email",
    )
    assert redacted.exit_code == 0
    assert "drop" in redacted.output
    refused = run(spine_cli, "residency", "evaluate", "--dataset", "crm.customers", "--sink", "us-analytics")
    assert refused.exit_code == 1


def test_policy_push_and_show(spine_cli: CliRunner, tmp_path: Path) -> None:
    newer = tmp_path / "newer.yaml"
    newer.write_text(
        MATRIX.read_text(encoding="utf-8").replace('version: "1"', 'version: "7"'), encoding="utf-8"
    )
    pushed = run(spine_cli, "residency", "policy", "push", str(newer), "--json")
    assert pushed.exit_code == 0, pushed.output
    assert json.loads(pushed.output)["version"] == "7"
    shown = run(spine_cli, "residency", "policy", "show", "--json")
    assert json.loads(shown.output)["version"] == "7"
    bad = tmp_path / "bad.yaml"
    bad.write_text(newer.read_text(encoding="utf-8").replace("home: eu", "home: moon", 1), encoding="utf-8")
    refused = run(spine_cli, "residency", "policy", "push", str(bad))
    assert refused.exit_code == 2
    assert f"{bad}:7:" in refused.output.replace("\n", "")
    assert json.loads(run(spine_cli, "residency", "policy", "show", "--json").output)["version"] == "7"
    history = json.loads(run(spine_cli, "residency", "policy", "history", "--json").output)["revisions"]
    assert [(r["version"], r["active"]) for r in history] == [("1", False), ("7", True)]
    assert "in force" in run(spine_cli, "residency", "policy", "history").output


def test_push_with_a_security_token_is_refused(spine_cli: CliRunner, gate: Gate) -> None:
    result = run(spine_cli, "residency", "policy", "push", str(MATRIX), "--token", gate.tokens[Role.SECURITY])
    assert result.exit_code == 1
    assert "needs admin" in result.output


def test_scan_records_unlisted_topics_and_quarantine_denies_them_until_released(
    spine_cli: CliRunner, gate: Gate, kafka_settings: KafkaSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPINE_KAFKA_BOOTSTRAP", kafka_settings.bootstrap_or_raise())
    Admin(kafka_settings).create_topics(
        [
            TopicSpec("sales.orders.v1"),
            TopicSpec("shadow.leads.v1"),
            TopicSpec("cdc.public.secrets"),
            TopicSpec("scratch"),
        ]
    )
    found = run(spine_cli, "residency", "scan", "--sink", "eu-warehouse", "--sink", "rogue-bucket", "--json")
    assert found.exit_code == 1, found.output
    subjects = {f["subject"] for f in json.loads(found.output)["findings"]}
    assert {"shadow.leads.v1", "cdc.public.secrets", "rogue-bucket"} <= subjects
    assert "sales.orders.v1" not in subjects
    assert "scratch" not in subjects
    assert "eu-warehouse" not in subjects
    kinds = [
        r["kind"] for r in gate.get("/v1/audit", role=Role.SECURITY, params={"limit": 1000}).json()["records"]
    ]
    assert kinds.count("finding") >= 3

    quarantined = run(spine_cli, "residency", "scan", "--quarantine", "--sink", "rogue-bucket")
    assert quarantined.exit_code == 0, quarantined.output
    listed = {q["sink"] for q in gate.get("/v1/quarantine").json()["quarantined"]}
    assert {"shadow.leads.v1", "rogue-bucket"} <= listed
    route = {"dataset": "sales.orders", "sink": "rogue-bucket"}
    assert gate.post("/v1/evaluate", json=route).json()["decisions"][0]["reasons"] == [
        "sink rogue-bucket is quarantined"
    ]

    released = run(spine_cli, "residency", "release", "rogue-bucket")
    assert released.exit_code == 0, released.output
    reasons = gate.post("/v1/evaluate", json=route).json()["decisions"][0]["reasons"]
    assert reasons == ["sink rogue-bucket is not in the residency matrix"]
    assert run(spine_cli, "residency", "release", "rogue-bucket").exit_code == 1
