"""``spine up`` tells each service where the services it calls are: the registry gets the gate's URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spine.runtime.services import ALL_SERVICES
from spine.runtime.supervisor import Supervisor
from spine.settings import KafkaSettings, RegistrySettings, SpineSettings, check_environment

ROOT = Path(__file__).resolve().parents[3]


def test_spine_up_passes_the_residency_gate_url_to_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPINE_REGISTRY_RESIDENCY_URL", raising=False)
    spine = SpineSettings(home=tmp_path, port_offset=7)
    supervisor = Supervisor(spine, KafkaSettings(bootstrap="127.0.0.1:9999"))
    registry = next(s for s in ALL_SERVICES if s.name == "registry")
    env = supervisor._env(registry)
    assert env["SPINE_REGISTRY_RESIDENCY_URL"] == "http://127.0.0.1:8188"
    check_environment({"SPINE_REGISTRY_RESIDENCY_URL": env["SPINE_REGISTRY_RESIDENCY_URL"]})
    monkeypatch.setenv("SPINE_REGISTRY_RESIDENCY_URL", "http://gate.example:8181")
    assert supervisor._env(registry)["SPINE_REGISTRY_RESIDENCY_URL"] == "http://gate.example:8181"
    assert RegistrySettings().residency_url == "http://gate.example:8181"


def test_compose_points_the_registry_at_the_residency_gate() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    registry_env = compose["services"]["registry"]["environment"]
    assert registry_env["SPINE_REGISTRY_RESIDENCY_URL"] == "http://residency-gate:8181"
