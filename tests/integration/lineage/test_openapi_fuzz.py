"""Schemathesis over the lineage service's own OpenAPI document: no generated request gets a 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spine.auth import Role
from tests.integration.lineage.service import Lineage

pytestmark = pytest.mark.integration


def test_no_generated_request_gets_a_server_error(lineage: Lineage, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(cli), "run", f"{lineage.url}/openapi.json",
            "--checks", "not_a_server_error",
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "30",
            "--seed", "9",
            "-H", f"Authorization: Bearer {lineage.tokens[Role.PRODUCER]}",
        ],
        capture_output=True,
        text=True,
        timeout=280,
        cwd=tmp_path,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
