"""docker-compose.yml is valid against the Compose Specification and runs every service the code defines.

There is no Docker engine on the build machines, so the file is checked against the published JSON schema
(a copy is kept in ``tests/data``; see its README for source and licence).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from spine.runtime.services import ALL_SERVICES, Kind

ROOT = Path(__file__).resolve().parents[2]


COMPOSE_SPEC = ROOT / "tests" / "data" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(COMPOSE_SPEC.read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_every_service_the_code_defines_runs_in_compose(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"kafka", "postgres", "connect"} <= set(services)
    for spec in ALL_SERVICES:
        if spec.kind is Kind.HTTP and spec.exists():
            assert spec.name in services, f"{spec.name} is missing from docker-compose.yml"
            assert services[spec.name]["command"] == [spec.module]


def test_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"


def test_postgres_runs_with_logical_replication(compose: dict[str, Any]) -> None:
    assert "wal_level=logical" in compose["services"]["postgres"]["command"]
