"""The README's command blocks, run as written against a spine started with ``spine up``.

Commands are read from the README itself, so a command that changes there is tested as it now reads.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_spine_up import free_offset, spine

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def bash_block(heading: str) -> list[str]:
    """The ``spine`` command lines of the first bash block under ``heading`` (comments dropped)."""
    text = README.read_text()
    section = text[text.index(heading) :]
    block = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert block, f"no bash block under {heading}"
    joined = block.group(1).replace("\\\n", " ")
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
    lines = bash_block("## Schema registry")
    export, *commands = lines
    match = re.fullmatch(r"export SPINE_TOKEN=\$\((.*)\)", export)
    assert match, export
    token = spine(*argv(match.group(1)), home=home)
    assert token.returncode == 0, token.stderr
    env = {"SPINE_TOKEN": token.stdout.strip()}
    for line in commands:
        result = run_in_repo(argv(line), home, env)
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
    shown = run_in_repo(["schema", "show", "sales.orders-value", "--json"], home, env)
    assert '"version": 3' in shown.stdout  # two publishes, then the rollback registered version 1 again


def test_residency_policy_commands_succeed_as_written(home: Path) -> None:
    lines = [
        line for line in bash_block("## Residency gate") if " residency check " in line or " test " in line
    ]
    assert len(lines) == 2, lines
    for line in lines:
        result = run_in_repo(argv(line), home, {})
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"


def run_in_repo(args: list[str], home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``spine ARGS`` from the repository root, as the README's relative paths assume."""
    return spine(*args, home=home, env=env, cwd=ROOT)
