"""Every command block of docs/audit-log-format.md runs as written against a real gate and a real broker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spine.auth import Role
from spine.settings import KafkaSettings
from tests.integration.residency_gate.gate import start_gate

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[3] / "docs" / "audit-log-format.md"


def _blocks(pattern: str) -> list[str]:
    return re.findall(pattern, DOC.read_text(encoding="utf-8"), re.S)


def test_the_documented_commands_export_and_verify_a_real_log(
    tmp_path: Path, kafka_settings: KafkaSettings
) -> None:
    commands = _blocks(r"<!-- doc-commands -->\n```sh\n(.*?)```")
    assert len(commands) == 3, "the page's runnable command blocks"
    (script,) = _blocks(r"<!-- independent-verifier -->\n```python\n(.*?)```")
    work = tmp_path / "review"
    work.mkdir()
    (work / "verify_audit.py").write_text(script, encoding="utf-8")
    gate = start_gate(tmp_path / "home", kafka=kafka_settings, checkpoint_every=3)
    try:
        for _ in range(4):
            assert gate.post("/v1/evaluate", json={"dataset": "sales.orders", "sink": "x"}).status_code == 200
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "SPINE_HOME": str(gate.home),
            "SPINE_RESIDENCY_URL": gate.url,
            "SPINE_TOKEN": gate.tokens[Role.SECURITY],
            "SPINE_KAFKA_BOOTSTRAP": kafka_settings.bootstrap_or_raise(),
        }
        outputs = []
        for block in commands:
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
            outputs.append(result.stdout)
    finally:
        gate.stop()
    assert sorted(p.name for p in work.iterdir() if p.name.startswith("audit.")) == [
        "audit.checkpoints.jsonl",
        "audit.jsonl",
        "audit.public-key.pem",
    ]
    spine_out, script_out, shell_out = outputs
    assert spine_out.count("intact") == 2
    assert script_out.strip() == "OK: 5 records, 2 checkpoints, 0 unsigned"
    recomputed, stored = shell_out.splitlines()[:2]
    assert recomputed == stored
    assert "Signature Verified Successfully" in shell_out
