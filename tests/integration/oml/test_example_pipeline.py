"""The example pipeline end to end: real broker (Tansu), registry, residency gate, SQLite table.

Orders are produced to a governed topic; ``spine pipeline run`` (a subprocess, as a user runs it) filters,
drops the PII the gate drops for us-east, checks expectations (failures to the DLQ, naming the expectation),
and writes a governed topic and a table. The table and topic must equal a hand computation; a run killed
with SIGKILL and restarted leaves each record once in the table and at least once in the topic.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from spine.auth import Role
from spine.governed import GovernedProducer
from spine.governed.codec import Decoder
from spine.governed.topics import governed_topic_specs
from spine.headers import DlqHeaders
from spine.kafka import Admin, read_topic
from spine.settings import KafkaSettings
from spine.topics import LINEAGE, dlq_topic
from tests.integration.spine.governed.conftest import GovernedSpine, governed_spine

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[3]
EXAMPLES = ROOT / "examples"
TOKEN_ENV = "OML_TEST_TOKEN"


@dataclass
class Setup:
    spine: GovernedSpine
    source: str  # dataset
    output: str  # dataset
    source_topic: str
    output_topic: str
    pipeline: Path
    table_db: Path
    env: dict[str, str]


def _publish(spine: GovernedSpine, subject: str, schema_file: Path) -> str:
    response = httpx.post(
        f"{spine.registry_url}/schemas/{subject}",
        json={"schema": schema_file.read_text(), "schemaType": "AVRO"},
        headers=spine.tokens.header("producer"),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    topic = str(response.json()["topic"])
    spine.admin.create_topics(governed_topic_specs(topic, partitions=2))
    return topic


@pytest.fixture
def setup(tmp_path: Path, kafka_settings: KafkaSettings, kafka_admin: Admin) -> Iterator[Setup]:
    with governed_spine(tmp_path, kafka_settings, kafka_admin) as spine:
        tag = uuid.uuid4().hex[:8]
        source, output = f"t{tag}.orders", f"t{tag}.paid"
        matrix = (EXAMPLES / "residency" / "matrix.yaml").read_text().replace("sales.orders", source)
        matrix = matrix.replace('version: "2026-12-01.1"', f'version: "{tag}"').replace(
            "datasets:\n",
            f"datasets:\n  {output}: {{home: us-east, classification: INTERNAL, subject: {output}-value}}\n",
        )
        pushed = spine.gate.post(
            "/v1/policy",
            content=matrix.encode(),
            params={"source": "test"},
            headers={"Content-Type": "application/yaml", **spine.gate.headers(Role.ADMIN)},
        )
        assert pushed.status_code == 201, pushed.text
        source_topic = _publish(spine, f"{source}-value", EXAMPLES / "schemas" / "order.avsc")
        output_topic = _publish(spine, f"{output}-value", EXAMPLES / "schemas" / "paid-order.avsc")
        text = (EXAMPLES / "pipelines" / "orders-analytics.oml.yaml").read_text()
        text = text.replace("sales.orders", source).replace("analytics.paid_orders", output)
        text = text.replace("      purpose: analytics\n", f"      purpose: analytics\n      group: g{tag}\n")
        pipeline = tmp_path / "orders-analytics.oml.yaml"
        pipeline.write_text(text)
        table_db = tmp_path / "analytics.db"
        (tmp_path / "connections.yaml").write_text(
            "connections:\n  kafka:\n    local:\n      default: true\n"
            f"      bootstrap: {kafka_settings.bootstrap}\n      registry_url: {spine.registry_url}\n"
            f"      gate_url: {spine.gate.url}\n      token: ${{{TOKEN_ENV}}}\n"
            f"  sql:\n    analytics:\n      url: sqlite:///{table_db}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
        env.update({"SPINE_HOME": str(tmp_path / "home"), TOKEN_ENV: spine.gate.tokens[Role.ADMIN]})
        yield Setup(spine, source, output, source_topic, output_topic, pipeline, table_db, env)


def _orders(first: int, count: int) -> list[dict[str, Any]]:
    statuses = ["PLACED", "PAID", "SHIPPED"]
    return [
        {"order_id": f"o-{i}", "customer_email": f"c{i}@example.com", "amount_cents": 400 * i,
         "status": statuses[i % 3]}
        for i in range(first, first + count)
    ]  # fmt: skip


def _produce(setup: Setup, records: list[dict[str, Any]]) -> None:
    spine = setup.spine
    with GovernedProducer(
        f"{setup.source}-value", kafka=spine.kafka, registry=spine.registry_client(), gate=spine.gate_client()
    ) as producer:
        for record in records:
            producer.send(record, record["order_id"])


def _expected(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The hand computation of the example: paid or shipped, >= 1000 cents, a valid id, first of its id."""
    out: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for r in records:
        if r["status"] not in {"PAID", "SHIPPED"} or r["amount_cents"] < 1000:
            continue
        if re.fullmatch(r"o-[0-9]+", r["order_id"]) is None or r["order_id"] in seen:
            continue
        seen.add(r["order_id"])
        cents = r["amount_cents"]
        out[r["order_id"]] = {"order_id": r["order_id"], "status": r["status"], "amount_cents": cents,
                              "amount_eur": cents / 100.0, "large": int(cents >= 5000)}  # fmt: skip
    return out


def _spine(setup: Setup, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "pipeline", *args],
        cwd=setup.pipeline.parent,
        env=setup.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_to_idle(setup: Setup) -> dict[str, Any]:
    process = _spine(setup, "run", str(setup.pipeline), "--idle-timeout", "4", "--json", "--no-progress")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    summary: dict[str, Any] = json.loads(out)
    return summary


def _table(setup: Setup) -> list[dict[str, Any]]:
    db = sqlite3.connect(setup.table_db)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM paid_orders ORDER BY order_id")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def _topic(setup: Setup) -> list[dict[str, Any]]:
    decoder = Decoder(setup.spine.registry_client("consumer"), f"{setup.output}-value")
    return [
        decoder.decode(m.value(), setup.output_topic)[1]
        for m in read_topic(setup.spine.kafka, setup.output_topic)
    ]


def test_example_pipeline_filters_redacts_checks_and_writes_a_topic_and_a_table(setup: Setup) -> None:
    records = _orders(1, 12)
    bad_id = {"order_id": "x-99", "customer_email": "x@example.com", "amount_cents": 9000, "status": "PAID"}
    duplicate = dict(records[4])  # o-5, SHIPPED, 2000 cents: passes, so its second copy is the duplicate
    records = [*records, bad_id, duplicate]
    _produce(setup, records)
    summary = _run_to_idle(setup)
    expected = _expected(records)
    assert summary["state"] == "completed"
    assert summary["read"] == len(records)
    assert _table(setup) == sorted(expected.values(), key=lambda r: r["order_id"])
    written = _topic(setup)
    assert sorted(written, key=lambda r: r["order_id"]) == sorted(
        expected.values(), key=lambda r: r["order_id"]
    )
    assert all("customer_email" not in r for r in written)
    letters = read_topic(setup.spine.kafka, dlq_topic(setup.source_topic))
    dead = {(DlqHeaders.from_kafka(m.headers()) or pytest.fail("no DLQ headers")).stage: m for m in letters}
    assert set(dead) == {"expect:checked:regex(order_id)", "expect:checked:unique_in_window(order_id)"}
    assert dead["expect:checked:regex(order_id)"].key() == b"x-99"
    decoder = Decoder(setup.spine.registry_client("consumer"), f"{setup.source}-value")
    original = decoder.decode(dead["expect:checked:regex(order_id)"].value(), setup.source_topic)[1]
    assert original["customer_email"] == "x@example.com"  # the dead letter is the record untouched


def test_run_logs_lineage_and_bundle_hold_no_secret(setup: Setup) -> None:
    _produce(setup, _orders(1, 6))
    summary = _run_to_idle(setup)
    home = Path(setup.env["SPINE_HOME"])
    run_dir = home / "runs" / summary["run_id"]
    assert {p.name for p in run_dir.iterdir()} >= {
        "events.jsonl",
        "metrics.jsonl",
        "status.json",
        "artifacts",
    }
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "completed"
    types = [json.loads(line)["event_type"] for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert types[0] == "run.start"
    assert "run.complete" in types
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert {m["metric"] for m in metrics} >= {"rows_in", "rows_out", "execution_time_ms", "memory_usage_mb"}
    for verb in (["bundle", summary["run_id"], "--out", "bundle.txt"], ["html", summary["run_id"]]):
        process = subprocess.run(
            [sys.executable, "-m", "cli", "logs", *verb], cwd=setup.pipeline.parent, env=setup.env,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert process.returncode == 0, process.stderr
    lineage = [json.loads(m.value() or b"{}") for m in read_topic(setup.spine.kafka, LINEAGE)]
    ours = [e for e in lineage if e["run"]["runId"] == status["lineage_run_id"]]
    # The spool relays at least once: an event may arrive twice, with the same time.
    states = sorted({(e["eventTime"], e["eventType"]) for e in ours})
    assert [state for _, state in states] == ["START", "RUNNING", "COMPLETE"]
    assert ours[0]["job"]["name"] == "pipeline.orders-analytics"
    assert [i["name"] for i in ours[-1]["inputs"]] == [setup.source_topic]
    outputs = {o["name"]: o for o in ours[-1]["outputs"]}
    assert set(outputs) == {setup.output_topic, "paid_orders"}
    columns = outputs["paid_orders"]["facets"]["columnLineage"]["fields"]
    assert [f["field"] for f in columns["amount_eur"]["inputFields"]] == ["amount_cents"]
    assert "customer_email" not in columns
    bundle = (setup.pipeline.parent / "bundle.txt").read_text()
    assert "## Event timeline" in bundle
    assert "## Metrics summary" in bundle
    assert (run_dir / "report.html").is_file()
    checked = json.loads((run_dir / "artifacts" / "checked" / "stats.json").read_text())
    assert checked["rows_in"] == checked["rows_out"] + checked["rows_rejected"]
    table_stats = json.loads((run_dir / "artifacts" / "to_table" / "stats.json").read_text())
    assert table_stats["rows_written"] == len(_table(setup))
    secret = setup.env[TOKEN_ENV]
    for path in [*home.rglob("*"), setup.pipeline.parent / "bundle.txt"]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_killed_mid_run_and_restarted_the_table_holds_each_record_once(setup: Setup) -> None:
    first = _orders(1, 300)
    _produce(setup, first)
    process = _spine(setup, "run", str(setup.pipeline), "--json", "--no-progress")
    deadline = time.monotonic() + 60
    while not _table(setup) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _table(setup), "the first run wrote nothing"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    second = _orders(301, 100)
    _produce(setup, second)
    _run_to_idle(setup)
    expected = _expected(first + second)
    table = _table(setup)
    assert [r["order_id"] for r in table] == sorted(expected)
    assert table == sorted(expected.values(), key=lambda r: r["order_id"])
    written = _topic(setup)
    assert {r["order_id"] for r in written} == set(expected)  # at least once: every record, maybe twice


def test_stop_ends_a_running_pipeline_after_its_batch(setup: Setup) -> None:
    _produce(setup, _orders(1, 20))
    process = _spine(setup, "run", str(setup.pipeline), "--run-id", "to-stop", "--no-progress")
    status_file = Path(setup.env["SPINE_HOME"]) / "runs" / "to-stop" / "status.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        status_file.is_file() and json.loads(status_file.read_text())["state"] == "running"
    ):
        time.sleep(0.05)
    stopped = subprocess.run(
        [sys.executable, "-m", "cli", "pipeline", "stop", "to-stop"],
        cwd=setup.pipeline.parent, env=setup.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    process.communicate(timeout=30)
    assert process.returncode == 0
    listed = subprocess.run(
        [sys.executable, "-m", "cli", "pipeline", "list", "--json"], cwd=setup.pipeline.parent, env=setup.env,
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert [(r["run_id"], r["state"]) for r in json.loads(listed.stdout)] == [("to-stop", "stopped")]


def test_a_route_denied_after_compiling_fails_the_run_before_reading(setup: Setup) -> None:
    from oml.compile import compile_pipeline
    from oml.context import LiveContext
    from oml.files import load_pipeline
    from oml.runtime.runner import PipelineRunner, Services
    from spine.governed import AccessDenied

    spine = setup.spine
    pipeline = load_pipeline(setup.pipeline, env=setup.env)
    registry, gate = spine.registry_client("consumer"), spine.gate_client()
    compiled = compile_pipeline(pipeline, LiveContext(gate, registry))
    policy = gate.policy()
    assert policy is not None
    # The policy changes between compile and run: the EU-to-US rule is gone.
    matrix = (EXAMPLES / "residency" / "matrix.yaml").read_text().replace("sales.orders", setup.source)
    matrix = matrix.replace("to: us-east\n      redact", "to: ap-south\n      redact")
    output = f"  {setup.output}: {{home: us-east, classification: INTERNAL, subject: {setup.output}-value}}\n"
    matrix = matrix.replace('version: "2026-12-01.1"', f'version: "{uuid.uuid4().hex[:8]}"')
    matrix = matrix.replace("datasets:\n", f"datasets:\n{output}")
    pushed = spine.gate.post(
        "/v1/policy",
        content=matrix.encode(),
        params={"source": "test"},
        headers={"Content-Type": "application/yaml", **spine.gate.headers(Role.ADMIN)},
    )
    assert pushed.status_code == 201, pushed.text
    home = Path(setup.env["SPINE_HOME"])
    runner = PipelineRunner(
        pipeline, compiled, Services(spine.kafka, registry, gate), home=home, env=setup.env
    )
    with pytest.raises(AccessDenied):
        runner.run(idle_timeout_s=2)
    status = json.loads((runner.log.dir / "status.json").read_text())
    assert status["state"] == "failed"
    assert "denied" in status["error"]
    assert _table(setup) == []
    lineage = [json.loads(m.value() or b"{}") for m in read_topic(spine.kafka, LINEAGE)]
    states = {e["eventType"] for e in lineage if e.get("run", {}).get("runId") == status["lineage_run_id"]}
    assert states == {"START", "FAIL"}


def test_two_processes_of_one_pipeline_share_the_partitions(setup: Setup) -> None:
    home = Path(setup.env["SPINE_HOME"])
    runs = [
        _spine(setup, "run", str(setup.pipeline), "--run-id", f"p{i}", "--idle-timeout", "8", "--json",
               "--no-progress")
        for i in range(2)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = [home / "runs" / f"p{i}" / "status.json" for i in range(2)]
        if all(s.is_file() and json.loads(s.read_text())["state"] == "running" for s in states):
            break
        time.sleep(0.1)
    time.sleep(4)  # both members joined the group (Tansu holds a join for half the session timeout)
    records = _orders(1, 200)
    _produce(setup, records)
    outcomes = [process.communicate(timeout=120) for process in runs]  # both, before any assert
    summaries = []
    for process, (out, err) in zip(runs, outcomes, strict=True):
        assert process.returncode == 0, err
        summaries.append(json.loads(out))
    reads = [s["read"] for s in summaries]
    assert all(n > 0 for n in reads), reads
    assert sum(reads) >= len(records)
    expected = _expected(records)
    assert _table(setup) == sorted(expected.values(), key=lambda r: r["order_id"])


def _exactly_once(setup: Setup) -> str:
    """Turn on the topic sink's ``exactly_once``; the pipeline's consumer group."""
    text = setup.pipeline.read_text()
    sink = "      subject: " + f"{setup.output}-value\n      key: order_id\n"
    assert sink in text
    setup.pipeline.write_text(text.replace(sink, sink + "      exactly_once: true\n"))
    match = re.search(r"^      group: (\S+)$", text, re.MULTILINE)
    assert match is not None
    return match.group(1)


def _committed(setup: Setup, group: str) -> int:
    """The sum of the group's committed offsets on the source topic, read without joining the group."""
    import confluent_kafka
    from confluent_kafka import TopicPartition

    from spine.kafka.config import consumer_config

    reader = confluent_kafka.Consumer(consumer_config(setup.spine.kafka, "oml-test-offsets", group))
    try:
        parts = reader.committed([TopicPartition(setup.source_topic, p) for p in range(2)], timeout=15)
        return sum(max(int(tp.offset), 0) for tp in parts)
    finally:
        reader.close()


def test_an_exactly_once_sink_commits_its_records_with_the_source_offsets(setup: Setup) -> None:
    group = _exactly_once(setup)
    records = _orders(1, 30)
    _produce(setup, records)
    summary = _run_to_idle(setup)
    assert summary["state"] == "completed"
    expected = _expected(records)
    written = _topic(setup)
    assert sorted(r["order_id"] for r in written) == sorted(expected)  # each once
    assert _committed(setup, group) == len(records)  # the offsets came with the transaction
    events = (Path(setup.env["SPINE_HOME"]) / "runs").glob("*/events.jsonl")
    assert any('"run.transactional"' in e.read_text() for e in events)


def test_an_exactly_once_pipeline_killed_mid_run_resumes_after_its_last_committed_batch(
    setup: Setup,
) -> None:
    group = _exactly_once(setup)
    first = _orders(1, 600)
    _produce(setup, first)
    process = _spine(setup, "run", str(setup.pipeline), "--json", "--no-progress")
    deadline = time.monotonic() + 60
    while not _table(setup) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _table(setup), "the first run wrote nothing"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    committed = _committed(setup, group)
    second = _orders(601, 100)
    _produce(setup, second)
    summary = _run_to_idle(setup)
    # The restart reads exactly what no committed transaction covered: nothing twice, nothing lost.
    # (records a saved window state already covers are skipped, not read again)
    assert summary["read"] + summary["skipped"] == len(first) + len(second) - committed
    expected = _expected(first + second)
    assert _table(setup) == sorted(expected.values(), key=lambda r: r["order_id"])
    assert {r["order_id"] for r in _topic(setup)} == set(expected)  # Tansu also shows aborted records
    # Not asserted: the group's final offsets. On Tansu they were found (2 runs in 5) back at the values the
    # killed transaction had added before it was fenced, which Apache Kafka discards (spine.kafka.producer).


WINDOWED = """\
oml_version: "0.1.0"
name: orders-per-hour
steps:
  - id: orders
    component: kafka.governed_source
    mode: read
    config: {{dataset: {source}, region: us-east, sink: analytics-us, purpose: analytics, group: {group},
              connection: "@kafka.local"}}
  - id: once
    component: quality.expectations
    mode: transform
    needs: [orders]
    config:
      expectations:
        - {{expect: unique_in_window, column: order_id, window_ms: 3600000}}
  - id: hourly
    component: transform.window_aggregate
    mode: transform
    needs: [once]
    config:
      key: status
      window_ms: 3600000
      aggregates:
        orders: {{fn: count}}
        cents: {{fn: sum, column: amount_cents}}
  - id: to_table
    component: sql.table_sink
    mode: write
    needs: [hourly]
    config: {{table: hourly, key: [status, window_start], sink: analytics-us, connection: "@sql.analytics"}}
"""


def test_windows_killed_mid_run_and_restarted_neither_double_count_nor_lose_a_record(setup: Setup) -> None:
    pipeline = setup.pipeline.with_name("orders-per-hour.oml.yaml")
    group = f"w{uuid.uuid4().hex[:8]}"
    pipeline.write_text(WINDOWED.format(source=setup.source, group=group))
    first = _orders(1, 3000)
    duplicates = first[:50]  # each rejected by unique_in_window, before and after the kill
    _produce(setup, first + duplicates)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "pipeline", "run", str(pipeline), "--json", "--no-progress"],
        cwd=pipeline.parent, env=setup.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    state_db = Path(setup.env["SPINE_HOME"]) / "state" / "oml-pipelines.db"
    deadline = time.monotonic() + 60
    saved = 0
    while saved == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        if state_db.exists():
            with sqlite3.connect(state_db) as db:
                try:
                    row = db.execute("SELECT offsets FROM pipeline_state WHERE pipeline_group = ?", (group,))
                    found = row.fetchone()
                except sqlite3.OperationalError:  # the runner has not created its table yet
                    found = None
            saved = sum(json.loads(found[0]).values()) if found else 0
    assert saved > 0, "the first run saved no state"
    process.send_signal(signal.SIGKILL)  # windows open, nothing of them in the table yet
    process.communicate(timeout=30)
    assert not _rows_of(setup, "hourly")
    second = _orders(3001, 200)
    _produce(setup, second + duplicates)
    restart = subprocess.run(
        [sys.executable, "-m", "cli", "pipeline", "run", str(pipeline), "--idle-timeout", "12", "--json",
         "--no-progress"],
        cwd=pipeline.parent, env=setup.env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert restart.returncode == 0, restart.stderr
    assert json.loads(restart.stdout)["state"] == "completed"
    # The hand computation, from the source topic's own record times: each order once per hour and status.
    decoder = Decoder(setup.spine.registry_client("consumer"), f"{setup.source}-value")
    expected: dict[tuple[str, int], list[int]] = {}
    seen: set[tuple[str, int]] = set()
    for msg in sorted(read_topic(setup.spine.kafka, setup.source_topic), key=lambda m: m.timestamp()[1]):
        order = decoder.decode(msg.value(), setup.source_topic)[1]
        hour = msg.timestamp()[1] - msg.timestamp()[1] % 3_600_000
        if (order["order_id"], hour) in seen:
            continue
        seen.add((order["order_id"], hour))
        totals = expected.setdefault((order["status"], hour), [0, 0])
        totals[0] += 1
        totals[1] += order["amount_cents"]
    table = {(r["status"], r["window_start"]): [r["orders"], r["cents"]] for r in _rows_of(setup, "hourly")}
    assert table == expected
    assert sum(v[0] for v in table.values()) == len(first) + len(second)


def _rows_of(setup: Setup, table: str) -> list[dict[str, Any]]:
    db = sqlite3.connect(setup.table_db)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(f"SELECT * FROM {table}")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()
