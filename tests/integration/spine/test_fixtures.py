from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from tests.fixtures.postgres import PostgresServer

pytestmark = pytest.mark.integration


def test_postgres_fixture_runs_with_logical_wal_level(postgres_server: PostgresServer) -> None:
    with psycopg.connect(postgres_server.dsn()) as conn:
        row = conn.execute("SHOW wal_level").fetchone()
    assert row == ("logical",)


def test_database_factory_hands_out_distinct_databases(database_factory: Callable[[], str]) -> None:
    first, second = database_factory(), database_factory()
    assert first != second
    assert first.startswith("postgresql+psycopg://")
