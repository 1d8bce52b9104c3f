"""The README's command blocks, run as written against a spine started with ``spine up``.

Commands are read from the README itself, so a command that changes there is tested as it now reads.
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from spine.kafka import Admin, TopicSpec
from spine.settings import KafkaSettings
from tests.e2e.test_spine_up import free_offset, spine

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def bash_block(heading: str, block: int = 0) -> list[str]:
    """The ``spine`` command lines of a bash block under ``heading`` (the first, or ``block``-th, from 0),
    comments dropped."""
    text = README.read_text()
    section = text[text.index(heading) :]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    assert len(blocks) > block, f"no bash block {block} under {heading}"
    joined = blocks[block].replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


def argv(line: str) -> list[str]:
    words = shlex.split(line)
    assert words[0] == ".venv/bin/spine", line
    return words[1:]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("readme") / "spine-home"
    started = spine("up", "--detach", "--port-offset", str(free_offset()), home=path)
    assert started.returncode == 0, started.stdout + started.stderr
    yield path
    spine("down", home=path)


def test_registry_section_commands_succeed_as_written(home: Path) -> None:
    export, *commands = bash_block("## Schema registry")
    env = exported_token(export, home)
    for line in commands:
        result = run_in_repo(argv(line), home, env)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
    shown = run_in_repo(["schema", "show", "sales.orders-value", "--json"], home, env)
    assert '"version": 3' in shown.stdout  # two publishes, then the rollback registered version 1 again


def test_registry_migration_commands_succeed_as_written(home: Path) -> None:
    export, *commands = bash_block("## Schema registry", 1)
    env = exported_token(export, home)
    publish = ["schema", "publish", "examples/schemas/order.avsc", "-s", "sales.orders-value"]
    run_in_repo(publish, home, env)  # so there is something to export, whichever test ran first
    results = []
    for line in commands:
        result = run_in_repo(argv(line), home, env)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        results.append(result.stdout)
    assert "exported" in results[0]
    assert "imported 0 version(s)" in results[1]


def exported_token(line: str, home: Path) -> dict[str, str]:
    """Run the ``spine auth token`` inside a section's ``export SPINE_TOKEN=$(...)`` and give its env."""
    match = re.fullmatch(r"export SPINE_TOKEN=\$\((.*)\)", line)
    assert match, line
    token = spine(*argv(match.group(1)), home=home)
    assert token.returncode == 0, token.stderr
    return {"SPINE_TOKEN": token.stdout.strip()}


def test_residency_section_commands_succeed_as_written(home: Path) -> None:
    export, *commands = bash_block("## Residency gate")
    env = exported_token(export, home)
    schema = ["schema", "publish", "examples/schemas/order.avsc", "-s", "sales.orders-value"]
    assert run_in_repo(schema, home, env).returncode == 0
    kafka = KafkaSettings(bootstrap=broker_address(home))
    Admin(kafka).create_topics([TopicSpec("shadow.leads.v1")])
    outputs = []
    for line in commands:
        result = run_in_repo(argv(line), home, env)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    assert "ALLOW_WITH_REDACTION sales.orders" in outputs[-2]
    assert "customer_email" in outputs[-2]
    assert "shadow.leads.v1" in outputs[-1]
    released = run_in_repo(["residency", "release", "shadow.leads.v1"], home, env)
    assert released.returncode == 0, released.stderr


def test_audit_section_commands_succeed_as_written(home: Path, tmp_path: Path) -> None:
    evaluated = spine(
        "residency", "evaluate", "--dataset", "catalog.products", "--to", "us-east", "--json", home=home
    )  # fmt: skip
    decision_id = json.loads(evaluated.stdout)["decisions"][0]["decision_id"]
    export, *commands = bash_block("## Residency gate", block=1)
    env = exported_token(export, home)
    for line in commands:
        result = spine(*argv(line.replace("DECISION_ID", decision_id)), home=home, env=env, cwd=tmp_path)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
    assert (tmp_path / "audit.checkpoints.jsonl").exists()


def test_residency_example_readme_commands_succeed_as_written(home: Path) -> None:
    text = (ROOT / "examples" / "residency" / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert len(lines) == 3, lines
    pushed = run_in_repo(["residency", "policy", "push", "examples/residency/matrix.yaml"], home, {})
    assert pushed.returncode == 0, pushed.stderr
    outputs = []
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "spine", line
        result = run_in_repo(words[1:], home, {})
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    assert "ALLOW_WITH_REDACTION sales.orders" in outputs[-1]
    assert "customer_email" in outputs[-1]


def test_governed_topics_section_commands_succeed_as_written(home: Path) -> None:
    setup = [
        ["schema", "publish", "examples/schemas/order.avsc", "-s", "sales.orders-value"],
        ["residency", "policy", "push", "examples/residency/matrix.yaml"],
    ]
    for args in setup:
        assert run_in_repo(args, home, {}).returncode == 0, args
    outputs = []
    for line in bash_block("## Governed topics"):
        result = run_in_repo(argv(line), home, {})
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    consumed = [json.loads(line) for line in outputs[2].splitlines() if line.startswith("{")]
    assert sorted(r["order_id"] for r in consumed) == ["o-1", "o-2", "o-3"]  # 3 partitions: no total order
    assert all("customer_email" not in r for r in consumed)
    assert "sales.orders.v1" in outputs[3]


def test_lineage_section_commands_succeed_as_written(home: Path, tmp_path: Path) -> None:
    outputs = []
    for line in bash_block("## Lineage"):
        result = spine(*argv(line), home=home, cwd=ROOT if " send " in line else tmp_path)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    assert "orders.enrich" in outputs[1]
    assert "public.orders" in outputs[2]
    exported = (tmp_path / "lineage.jsonl").read_text().splitlines()
    assert len(exported) >= 2


def test_oml_pipelines_section_commands_succeed_as_written(home: Path, tmp_path: Path) -> None:
    setup = [  # what the section takes from the registry, residency and governed-topics sections
        ["schema", "publish", "examples/schemas/order.avsc", "-s", "sales.orders-value"],
        ["residency", "policy", "push", "examples/residency/matrix.yaml"],
        ["topic", "create", "sales.orders-value"],
    ]
    for args in setup:
        assert run_in_repo(args, home, {}).returncode == 0, args
    table = ROOT / ".spine" / "analytics.db"  # the example's connection, relative to where it runs
    table.unlink(missing_ok=True)
    outputs = []
    for line in bash_block("## OML pipelines"):
        # the run logs' files are written where the section is followed; keep them out of the repository
        cwd = tmp_path if " logs " in line else ROOT
        result = spine(*argv(line), home=home, cwd=cwd)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    assert "transform.window_aggregate" in outputs[2]
    assert "customer_email drop" in outputs[4]
    assert "analytics.paid_orders.v1" in outputs[4]
    assert "completed" in outputs[7]
    assert "expectation" in outputs[8]
    assert "orders-analytics" in outputs[9]
    with sqlite3.connect(table) as db:
        ids = {row[0] for row in db.execute("SELECT order_id FROM paid_orders")}
    assert "o-4" in ids
    assert "x-5" not in ids
    assert not ids & {"o-1", "o-2"}  # filtered when the governed-topics section's orders are there too
    bundle = (tmp_path / "bundle.txt").read_text()
    assert "orders-analytics" in bundle
    assert list((home / "runs").glob("*/report.html"))


def test_cdc_section_commands_succeed_as_written(home: Path) -> None:
    env: dict[str, str] = {}
    outputs = []
    for line in bash_block("## Change data capture"):
        exported = re.fullmatch(r"export (\w+)=(\S+)", line)
        if exported:
            env[exported.group(1)] = exported.group(2)
            continue
        result = run_in_repo(argv(line), home, env)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    demo, _validated, connect = outputs
    assert "@example.org" not in demo  # the demo's e-mail addresses never reach the sink or the output
    config = json.loads(connect)
    assert config["config"]["connector.class"] == "io.debezium.connector.postgresql.PostgresConnector"
    assert config["config"]["database.password"] == "${env:SHOP_DB_PASSWORD}"  # never the value itself


def broker_address(home: Path) -> str:
    status = json.loads(spine("status", "--json", home=home).stdout)
    return str(next(s["url"] for s in status if s["name"] == "broker"))


def run_in_repo(args: list[str], home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``spine ARGS`` from the repository root, as the README's relative paths assume."""
    return spine(*args, home=home, env=env, cwd=ROOT)
