"""Schemathesis over the gate's own OpenAPI document: no generated request gets a 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spine.auth import Role
from tests.integration.residency_gate.gate import Gate

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PRODUCER])
def test_no_generated_request_gets_a_server_error(gate: Gate, role: Role, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(cli), "run", f"{gate.url}/openapi.json",
            "--checks", "not_a_server_error",
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "40",
            "--seed", "4",
            "-H", f"Authorization: Bearer {gate.tokens[role]}",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=tmp_path,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
