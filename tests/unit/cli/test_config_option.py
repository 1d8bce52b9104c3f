"""``spine --config FILE`` applies a configuration file to every command, as the README says."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("SPINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SPINE_CONFIG", str(tmp_path / "absent.toml"))  # restored after the test
    return tmp_path


def test_the_config_file_moves_the_ports_every_command_uses(isolated: Path) -> None:
    config = isolated / "spine.toml"
    config.write_text("[spine]\nport_offset = 777\n")
    result = CliRunner().invoke(app, ["--config", str(config), "residency", "policy", "show"])
    assert result.exit_code == 3, result.output
    assert f"127.0.0.1:{8181 + 777}" in result.output


def test_a_config_file_with_an_unknown_setting_is_refused_in_one_line(isolated: Path) -> None:
    config = isolated / "spine.toml"
    config.write_text("[spine]\nbogus = 1\n")
    result = CliRunner().invoke(app, ["--config", str(config), "status"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {config}: [spine] bogus: unknown setting"


def test_a_missing_config_file_is_refused(isolated: Path) -> None:
    result = CliRunner().invoke(app, ["--config", str(isolated / "nope.toml"), "status"])
    assert result.exit_code == 2
    assert "no such file" in result.stderr
