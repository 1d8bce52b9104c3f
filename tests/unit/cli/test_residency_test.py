"""``spine residency test`` and ``check``: pure, no server; exit 0, 1 on a mismatch, 2 on a bad file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "residency"
MATRIX = EXAMPLES / "matrix.yaml"
CASES = EXAMPLES / "cases.yaml"

runner = CliRunner()


def test_the_example_cases_all_pass() -> None:
    result = runner.invoke(app, ["residency", "test", str(MATRIX), str(CASES)])
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_json_output_lists_every_case() -> None:
    result = runner.invoke(app, ["residency", "test", str(MATRIX), str(CASES), "--json"])
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["failed"] == 0
    assert body["passed"] == len(body["cases"]) > 5


def test_a_mismatching_case_exits_1_and_names_the_case_and_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "cases:\n"
        "  - name: payments may not leave the EU\n"
        "    route: {dataset: billing.payments, destination_region: us-east}\n"
        "    expect: allow\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["residency", "test", str(MATRIX), str(cases)])
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert f"{cases}:2: case 'payments may not leave the EU' expected allow, got deny" in " ".join(
        result.output.split()
    )


def test_a_bad_case_file_exits_2_with_file_and_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "cases:\n  - name: x\n    route: {dataset: a, sink: b}\n    expect: maybe\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["residency", "test", str(MATRIX), str(cases)])
    assert result.exit_code == 2
    assert f"{cases}:4:" in result.output


def test_check_accepts_the_example_matrix() -> None:
    result = runner.invoke(app, ["residency", "check", str(MATRIX), "--json"])
    assert result.exit_code == 0
    body = json.loads(result.output)
    assert body["valid"] is True
    assert body["datasets"] == 7


def test_check_refuses_an_undefined_region_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "matrix.yaml"
    bad.write_text(
        MATRIX.read_text(encoding="utf-8").replace("home: us-east", "home: mars"), encoding="utf-8"
    )
    result = runner.invoke(app, ["residency", "check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:" in result.output
    assert "mars" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_names_a_missing_file_with_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["residency", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml" in result.output
