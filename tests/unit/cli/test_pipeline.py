"""``spine pipeline validate|compile|plan|components``: exit codes, --json, and secrets never printed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

ROOT = Path(__file__).parents[3]
EXAMPLES = ROOT / "examples"
SECRET = "pw-Zq81-never-shown"
OFFLINE = [
    "--matrix",
    str(EXAMPLES / "residency" / "matrix.yaml"),
    "--schema",
    f"sales.orders-value={EXAMPLES / 'schemas' / 'order.avsc'}",
    "--schema",
    f"analytics.paid_orders-value={EXAMPLES / 'schemas' / 'paid-order.avsc'}",
]


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SPINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPINE_TOKEN", SECRET)
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLES / "pipelines" / "orders-analytics.oml.yaml", tmp_path / "p.oml.yaml")
    (tmp_path / "connections.yaml").write_text(
        "connections:\n  kafka:\n    local:\n      default: true\n      gate_url: http://127.0.0.1:8181\n"
        "      token: ${SPINE_TOKEN}\n  sql:\n    analytics: {default: true, url: 'sqlite:///a.db'}\n"
    )
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_accepts_the_example(workdir: Path) -> None:
    code, out, _ = _run("pipeline", "validate", "p.oml.yaml", "--json")
    assert code == 0
    assert json.loads(out)["valid"] is True


def test_validate_prints_one_line_per_problem_with_file_line_path_and_code(workdir: Path) -> None:
    (workdir / "bad.yaml").write_text('oml_version: "0.1.0"\nname: x\ntasks: []\nsteps: []\n')
    code, _, err = _run("pipeline", "validate", "bad.yaml")
    assert code == 2
    assert err.splitlines() == [
        "error: bad.yaml:3: tasks: 'tasks' is not OML v0.1.0 (forbidden top-level key) [OML005]",
        "error: bad.yaml:4: steps: steps must not be empty [OML008]",
    ]
    code, out, _ = _run("pipeline", "validate", "bad.yaml", "--json")
    assert code == 2
    assert [i["code"] for i in json.loads(out)["issues"]] == ["OML005", "OML008"]


def test_a_missing_file_is_a_usage_error_in_one_line(workdir: Path) -> None:
    code, _, err = _run("pipeline", "validate", "absent.yaml")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "absent.yaml" in err


def test_compile_writes_the_same_manifest_twice(workdir: Path) -> None:
    code, out, _ = _run("pipeline", "compile", "p.oml.yaml", "--out", "a", "--json", *OFFLINE)
    assert code == 0, out
    code, _, _ = _run("pipeline", "compile", "p.oml.yaml", "--out", "b", "--json", *OFFLINE)
    assert code == 0
    first = (workdir / "a" / "manifest.json").read_bytes()
    assert first == (workdir / "b" / "manifest.json").read_bytes()
    assert json.loads(out)["fingerprints"]["manifest"] == json.loads(first)["fingerprints"]["manifest"]


def test_a_denied_route_exits_1_naming_the_step(workdir: Path) -> None:
    text = (workdir / "p.oml.yaml").read_text().replace("region: us-east", "region: ap-south")
    (workdir / "p.oml.yaml").write_text(
        text.replace("      sink: analytics-us\n      purpose", "      purpose")
    )
    code, _, err = _run("pipeline", "compile", "p.oml.yaml", *OFFLINE)
    assert code == 1
    assert "steps[0]" in err
    assert "[OML040]" in err


def test_an_unreachable_gate_exits_3(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (workdir / "connections.yaml").read_text().replace("127.0.0.1:8181", "127.0.0.1:9")
    (workdir / "connections.yaml").write_text(text)
    code, _, err = _run("pipeline", "plan", "p.oml.yaml")
    assert code == 3
    assert "residency gate unreachable" in err


def test_a_secret_value_appears_in_no_output_and_no_manifest(workdir: Path) -> None:
    outputs = [
        _run("pipeline", "validate", "p.oml.yaml"),
        _run("pipeline", "validate", "p.oml.yaml", "--json"),
        _run("pipeline", "compile", "p.oml.yaml", "--out", "m", *OFFLINE),
        _run("pipeline", "compile", "p.oml.yaml", "--out", "m", "--json", *OFFLINE),
        _run("pipeline", "plan", "p.oml.yaml", *OFFLINE),
        _run("pipeline", "plan", "p.oml.yaml", "--json", *OFFLINE),
        _run("pipeline", "components", "--json"),
    ]
    assert all(code == 0 for code, _, _ in outputs)
    for _, out, err in outputs:
        assert SECRET not in out
        assert SECRET not in err
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert workdir / "m" / "manifest.json" in files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


def test_an_inline_secret_is_refused(workdir: Path) -> None:
    text = (
        (workdir / "p.oml.yaml")
        .read_text()
        .replace('connection: "@sql.analytics"', "connection: {url: 'sqlite:///x.db', password: hunter2}")
    )
    (workdir / "p.oml.yaml").write_text(text)
    code, _, err = _run("pipeline", "validate", "p.oml.yaml")
    assert code == 2
    assert "[OML023]" in err
    assert "hunter2" not in err


def test_components_lists_every_shipped_schema_and_shows_one(workdir: Path) -> None:
    code, out, _ = _run("pipeline", "components", "--json")
    assert code == 0
    names = {c["name"] for c in json.loads(out)}
    assert names == {p.stem for p in (ROOT / "oml" / "components").glob("*.json")}
    code, out, _ = _run("pipeline", "components", "sql.table_sink")
    assert code == 0
    assert json.loads(out)["required"] == ["table", "key", "sink"]
    code, _, err = _run("pipeline", "components", "nope")
    assert code == 2
    assert "unknown" in err
