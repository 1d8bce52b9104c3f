"""``spine up`` with ``[cdc]`` routes: the Debezium source and the router run as supervised workers whose
health comes from their heartbeats, and a source that cannot start fails ``spine up``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from tests.e2e.test_spine_up import free_offset, spine
from tests.fixtures.postgres import PostgresServer
from tests.integration.cdc.conftest import FINANCIAL_TO_US, MATRIX, ROUTES, TABLES, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "spine-home"
    yield path
    spine("down", home=path)


def write_config(tmp: Path, server: PostgresServer, port: int, db: str) -> tuple[dict[str, str], str, str]:
    prefix = f"up{uuid.uuid4().hex[:8]}"
    sink_url = f"sqlite:///{tmp / 'sink.db'}"
    routes = tmp / "routes.yaml"
    slot = f"slot_{prefix}"
    routes.write_text(
        ROUTES.format(prefix=prefix, port=port, db=db, slot=slot, sink_url=sink_url, delete="delete")
    )
    matrix = tmp / "matrix.yaml"
    matrix.write_text(MATRIX.format(version="1", extra=FINANCIAL_TO_US))
    env = {"SPINE_CDC_ROUTES_FILE": str(routes), "SPINE_RESIDENCY_POLICY_FILE": str(matrix)}
    return env, sink_url, slot


def services(home: Path) -> dict[str, dict[str, object]]:
    return {s["name"]: s for s in json.loads(spine("status", "--json", home=home).stdout or "[]")}


def test_spine_up_runs_source_and_router_as_healthy_workers_that_replicate(
    home: Path, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    db = postgres_server.create_database()
    with psycopg.connect(postgres_server.dsn(db), autocommit=True) as conn:
        conn.execute(TABLES)
    env, sink_url, slot = write_config(tmp_path, postgres_server, postgres_server.port, db)
    try:
        up = spine("up", "--detach", "--port-offset", str(free_offset()), home=home, env=env)
        assert up.returncode == 0, up.stderr + up.stdout
        found = services(home)
        for name in ("cdc-source", "cdc-router"):
            assert found[name]["healthy"] is True, found[name]
            assert found[name]["url"] == str(home / "run" / f"{name}.heartbeat.json")
        table = spine("status", home=home).stdout
        assert "cdc-source" in table
        assert "cdc-router" in table

        with psycopg.connect(postgres_server.dsn(db), autocommit=True) as conn:
            conn.execute("INSERT INTO customers VALUES (1, 'Ada', 'ada@example.org', 'UK', 1.50)")

        def arrived() -> bool:
            engine = sa.create_engine(sink_url)
            try:
                with engine.connect() as conn:
                    if not sa.inspect(conn).has_table("customers"):
                        return False
                    return list(conn.execute(sa.text("SELECT id, email FROM customers"))) == [(1, "****")]
            finally:
                engine.dispose()

        def logs() -> str:
            names = ("cdc-source", "cdc-router")
            return "".join((home / "logs" / f"{n}.log").read_text(errors="replace")[-2000:] for n in names)

        wait_for(arrived, 120, "the row in the sink through spine up's workers", logs)

        source_pid = found["cdc-source"]["pid"]
        assert isinstance(source_pid, int)
        down = spine("down", home=home)
        assert down.returncode == 0, down.stderr
        beat = json.loads((home / "run" / "cdc-source.heartbeat.json").read_text())
        assert beat["state"] == "stopped"  # asked to stop, so not "failed" and no longer "running"
    finally:
        with psycopg.connect(postgres_server.dsn(db), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                (slot,),
            )


def test_spine_up_fails_and_names_the_source_when_its_database_is_unreachable(
    home: Path, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    env, _, _ = write_config(tmp_path, postgres_server, 1, "nowhere")  # port 1: nothing listens
    up = spine("up", "--detach", "--port-offset", str(free_offset()), home=home, env=env)
    assert up.returncode != 0
    output = up.stderr + up.stdout
    assert "cdc-source" in output, output
    assert services(home) == {}  # nothing left half-started


def test_spine_up_refuses_a_bad_route_file_in_one_line_before_starting_anything(
    home: Path, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    env, _, _ = write_config(tmp_path, postgres_server, postgres_server.port, "postgres")
    routes = Path(env["SPINE_CDC_ROUTES_FILE"])
    routes.write_text(routes.read_text() + "surprise: 1\n")
    up = spine("up", "--detach", "--port-offset", str(free_offset()), home=home, env=env)
    assert up.returncode == 2
    assert str(routes) in up.stderr
    assert "surprise" in up.stderr
    assert up.stderr.strip().count("\n") == 0, up.stderr
    assert not (home / "run" / "spine.json").exists()  # the supervisor never started
