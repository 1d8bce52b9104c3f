from __future__ import annotations

from pathlib import Path

import pytest

from spine.errors import ConfigError, ExitCode
from spine.settings import KafkaSettings, RegistrySettings, SpineSettings, check_environment, load_settings


def test_unknown_spine_variable_is_refused_with_its_name() -> None:
    with pytest.raises(ConfigError, match="unknown setting SPINE_KAFKA_BOOTSTRAPP"):
        check_environment({"SPINE_KAFKA_BOOTSTRAPP": "x:1", "HOME": "/root"})


def test_known_variables_of_every_service_pass() -> None:
    check_environment({"SPINE_HOME": "/x", "SPINE_KAFKA_BOOTSTRAP": "x:1", "SPINE_REGISTRY_PORT": "1"})


def test_environment_overrides_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "spine.toml"
    config.write_text("[kafka]\nbootstrap = 'file:1'\n[spine]\nport_offset = 5\n")
    monkeypatch.setenv("SPINE_KAFKA_BOOTSTRAP", "env:2")
    assert load_settings(KafkaSettings, config).bootstrap == "env:2"
    assert load_settings(SpineSettings, config).port_offset == 5


def test_unknown_key_in_a_section_names_file_section_and_key(tmp_path: Path) -> None:
    config = tmp_path / "spine.toml"
    config.write_text("[registry]\nprot = 1\n")
    with pytest.raises(ConfigError) as info:
        load_settings(RegistrySettings, config)
    assert str(info.value) == f"{config}: [registry] prot: unknown setting"
    assert info.value.exit_code is ExitCode.USAGE


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "spine.toml"
    config.write_text("[regsitry]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[regsitry\]"):
        load_settings(RegistrySettings, config)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("port = = 3")
    with pytest.raises(ConfigError, match=f"^{config}: malformed TOML"):
        load_settings(SpineSettings, config)


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINE_PORT_OFFSET", "lots")
    with pytest.raises(ConfigError, match=r"^SPINE_PORT_OFFSET: "):
        load_settings(SpineSettings)


def test_port_offset_moves_every_port() -> None:
    spine = SpineSettings(port_offset=100)
    assert [spine.port(s) for s in ("broker", "registry", "residency-gate", "lineage")] == [
        9192,
        8181,
        8281,
        5100,
    ]


def test_secrets_do_not_appear_in_the_settings_repr() -> None:
    settings = KafkaSettings(bootstrap="x:1", sasl_password="hunter2")
    assert "hunter2" not in repr(settings)
