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


def test_connect_gets_the_route_files_connector_and_the_router_reads_its_topics(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    register = services["cdc-register"]
    assert register["command"][:4] == ["cli", "cdc", "register", "--connect"]
    assert register["command"][4] == "http://connect:8083"
    routes = register["command"][register["command"].index("--routes") + 1]
    assert f"./deploy/cdc/routes.yaml:{routes}:ro" in register["volumes"]
    assert set(register["depends_on"]) >= {"kafka", "connect"}
    router = services["cdc-router"]
    assert router["command"][0] == "cdc.router"
    assert router["environment"]["SPINE_CDC_ROUTES_FILE"] == routes
    assert router["environment"]["SPINE_CDC_RESIDENCY_URL"] == "http://residency-gate:8181"
    assert "worker_health" in " ".join(router["healthcheck"]["test"])
    connect = services["connect"]["environment"]
    assert connect["CONNECT_CONFIG_PROVIDERS"] == "env"  # resolves the ${env:...} password reference
    assert "PG_PASSWORD" in connect


def test_the_compose_route_file_is_valid_and_names_its_secret() -> None:
    from cdc.routes import load_routes
    from cdc.source import connect_config
    from spine.settings import CdcSettings

    routes = load_routes(ROOT / "deploy" / "cdc" / "routes.yaml", {"PG_PASSWORD": "pw"})
    config = connect_config(routes, CdcSettings())["config"]
    assert isinstance(config, dict)
    assert config["database.hostname"] == "postgres"
    assert config["database.password"] == "${env:PG_PASSWORD}"
