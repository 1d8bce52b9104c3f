"""Storage on a real SQLite file and a real PostgreSQL: migrations, id reuse, concurrent publishers."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from registry.classification import FieldClass
from registry.service import RegistryService, SchemaInput
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


def _fifty_registrations(db: Database) -> None:
    service = RegistryService(db)
    with ThreadPoolExecutor(max_workers=50) as pool:
        done = list(pool.map(lambda n: service.register("pay-value", SchemaInput(_record(n))), range(50)))
    assert sorted(r.version for r in done) == list(range(1, 51))
    assert len({r.schema_id for r in done}) == 50
    with db.read() as conn:
        semvers = [v.semver for v in repo.versions(conn, "pay-value")]
    assert semvers[0] == "1.0.0"
    assert semvers[-1] == "1.0.49"


def _record(n: int) -> str:
    fields = [{"name": "id", "type": "string", "doc": "Id."}]
    return json.dumps(
        {"type": "record", "name": "Pay", "namespace": "x", "doc": f"Pay {n}.", "fields": fields}
    )


def test_fifty_concurrent_registrations_through_the_service_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    db.migrate()
    _fifty_registrations(db)


def test_fifty_concurrent_registrations_through_the_service_on_postgres(
    database_factory: Callable[[], str],
) -> None:
    db = Database(database_factory())
    db.migrate()
    _fifty_registrations(db)
    db.dispose()


def test_pruning_forgets_only_delivered_events(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'registry.db'}")
    db.migrate()
    with db.write() as conn:
        for n in range(3):
            repo.enqueue(conn, "_spine.schemas", f"s{n}", {"n": n})
    with db.write() as conn:
        first = repo.pending_events(conn)[0]
        repo.mark_sent(conn, [first.id])
        assert repo.prune_sent(conn, datetime.now(UTC) + timedelta(seconds=1)) == 1
    with db.read() as conn:
        assert [e.key for e in repo.pending_events(conn)] == ["s1", "s2"]


ADDRESS = json.dumps(
    {
        "type": "record",
        "name": "Address",
        "namespace": "sales",
        "fields": [{"name": "street", "type": "string", "confluent:tags": ["PII.address"]}],
    }
)


def _customer(*email_tags: str) -> str:
    email = {"name": "email", "type": "string", "confluent:tags": list(email_tags)}
    fields = [{"name": "home", "type": "sales.Address"}, email] if email_tags else []
    return json.dumps({"type": "record", "name": "Customer", "namespace": "sales", "fields": fields})


def _upgrade_remembers_the_last_tags_of_existing_versions(db: Database) -> None:
    db.migrate("0002")
    with db.write() as conn:
        for subject, schemas in (
            ("addr-value", [(ADDRESS, ())]),
            (
                "cust-value",
                [
                    (_customer("PII.email"), (Reference("sales.Address", "addr-value", 1),)),
                    (_customer("PII.email", "PII.contact"), (Reference("sales.Address", "addr-value", 1),)),
                    (_customer(), ()),
                ],
            ),
        ):
            repo.lock_subject(conn, subject)
            for n, (text, refs) in enumerate(schemas):
                schema_id = repo.store_schema(conn, "AVRO", f"{text}#{subject}{n}", text, refs)
                repo.add_version(conn, subject, schema_id, f"{n + 1}.0.0")
        repo.mark_deleted(conn, "cust-value", None)
    db.migrate()
    with db.read() as conn:
        assert repo.remembered_classes(conn, "cust-value") == [
            FieldClass("AVRO", "email", "email", ("PII.email", "PII.contact")),
            FieldClass("AVRO", "home.street", "home.street", ("PII.address",)),
        ]
        assert repo.remembered_classes(conn, "addr-value") == [
            FieldClass("AVRO", "street", "street", ("PII.address",))
        ]


def test_upgrade_remembers_the_last_tags_of_existing_versions_on_sqlite(tmp_path: Path) -> None:
    _upgrade_remembers_the_last_tags_of_existing_versions(Database(f"sqlite:///{tmp_path / 'registry.db'}"))


def test_upgrade_remembers_the_last_tags_of_existing_versions_on_postgres(
    database_factory: Callable[[], str],
) -> None:
    db = Database(database_factory())
    _upgrade_remembers_the_last_tags_of_existing_versions(db)
    db.dispose()
