"""The suite does not depend on where it runs from or on the caller's ``SPINE_*`` environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_spine_setting_of_the_caller_is_visible_to_a_test() -> None:
    leaked = [name for name in os.environ if name.startswith("SPINE_") and not name.startswith("SPINE_TEST_")]
    assert leaked == []


def test_the_callers_spine_settings_do_not_change_the_settings_tests(tmp_path: Path) -> None:
    env = {**os.environ, "SPINE_PORT_OFFSET": "100", "SPINE_HOME": str(tmp_path / "elsewhere")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/unit/spine/test_settings.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]
