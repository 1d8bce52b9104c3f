"""Storage on a real SQLite file and a real PostgreSQL: migrations, id reuse, concurrent publishers."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from registry.storage import Database, Reference
from registry.storage import repository as repo

pytestmark = pytest.mark.integration


def _publish(db: Database, subject: str, n: int) -> tuple[int, int]:
    with db.write() as conn:
        repo.lock_subject(conn, subject)
        schema_id = repo.store_schema(conn, "AVRO", f'{{"type":"fixed","name":"f{n}","size":{n}}}', "x", [])
        number = repo.add_version(conn, subject, schema_id, "1.0.0")
    return schema_id, number


def _fifty_publishers(db: Database) -> None:
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda n: _publish(db, "orders-value", n), range(1, 51)))
    assert sorted(v for _, v in results) == list(range(1, 51))
    assert len({i for i, _ in results}) == 50
    with db.read() as conn:
        assert [v.version for v in repo.versions(conn, "orders-value")] == list(range(1, 51))


def test_fifty_concurrent_publishers_get_contiguous_versions_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    db.migrate()
    _fifty_publishers(db)


def test_fifty_concurrent_publishers_get_contiguous_versions_on_postgres(
    database_factory: Callable[[], str],
) -> None:
    db = Database(database_factory())
    db.migrate()
    _fifty_publishers(db)
    db.dispose()


def test_identical_schema_reuses_its_id_across_subjects_on_postgres(
    database_factory: Callable[[], str],
) -> None:
    db = Database(database_factory())
    db.migrate()
    with db.write() as conn:
        first = repo.store_schema(conn, "AVRO", '"string"', '"string"', [])
        second = repo.store_schema(conn, "AVRO", '"string"', ' "string" ', [])
        with_ref = repo.store_schema(conn, "AVRO", '"string"', '"string"', [Reference("a", "s", 1)])
    assert first == second != with_ref
    with db.read() as conn:
        stored = repo.schema_by_id(conn, with_ref)
    assert stored is not None
    assert stored.references == (Reference("a", "s", 1),)
    db.dispose()


def test_migrations_are_idempotent_on_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    Database(url).migrate()
    db = Database(url)
    db.migrate()
    _publish(db, "s", 1)
    with db.read() as conn:
        assert repo.subject_names(conn) == ["s"]
