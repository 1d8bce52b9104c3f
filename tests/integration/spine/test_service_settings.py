"""``python -m <service>`` with a bad setting prints one line naming it and exits 2, for every service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spine.broker import free_port

pytestmark = pytest.mark.integration

SERVICES = {"registry": "SPINE_REGISTRY_PORT", "residency_gate": "SPINE_RESIDENCY_PORT"}

BAD_SETTINGS = [
    ("registry", "SPINE_REGISTRY_MAX_BODY_BYTES", "abc"),
    ("registry", "SPINE_REGISTRY_FOO", "1"),
    ("residency_gate", "SPINE_RESIDENCY_CHECKPOINT_EVERY", "abc"),
    ("residency_gate", "SPINE_RESIDENCY_GATE_FOO", "1"),
    *(
        (module, name, value)
        for module in SERVICES
        for name, value in (
            ("SPINE_PORT_OFFSET", "abc"),
            ("SPINE_LOG_LEVEL", "chatty"),
            ("SPINE_KAFKA_PRODUCER", "not json"),
        )
    ),
]


@pytest.mark.parametrize(("module", "name", "value"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(
    tmp_path: Path, module: str, name: str, value: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env |= {"SPINE_HOME": str(tmp_path), SERVICES[module]: str(free_port()), name: value}
    done = subprocess.run(
        [sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert name in lines[0]
    assert lines[0].startswith(f"{module.replace('_', '-')}: ")
