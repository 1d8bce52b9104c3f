"""Storage on a real SQLite file and a real PostgreSQL: migrations, id reuse, concurrent publishers."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from registry.classification import FieldClass
from registry.events import decode_event, event_schema
from registry.service import RegistryService, SchemaInput
from registry.storage import Database, Reference
from registry.storage import repository as repo
from registry.storage.database import MIGRATIONS_DIR
from spine import outbox

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


def _at_revision_0001_with_events(url: str) -> None:
    """A database as the registry left it before the shared outbox: two unsent events and a sent one."""
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        old = sa.table(
            "outbox",
            *(sa.column(c) for c in ("topic", "key", "payload", "created_at", "sent_at")),
        )
        now = datetime.now(UTC)
        for n, sent in ((0, None), (1, now), (2, None)):
            payload = {"type": "REGISTERED", "subject": f"s{n}-value", "version": n, "timestamp_ms": 1}
            conn.execute(
                old.insert().values(
                    topic="_spine.schemas",
                    key=f"s{n}-value",
                    payload=json.dumps(payload),
                    created_at=now - timedelta(minutes=5),
                    sent_at=sent,
                )
            )
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrating_to_the_shared_outbox_keeps_unsent_events_deliverable(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
    else:
        url = request.getfixturevalue("database_factory")()
    _at_revision_0001_with_events(url)
    db = Database(url)
    db.migrate()
    with db.read() as conn:
        rows = outbox.pending(conn, 10)
        assert outbox.stats(conn).oldest_age_s() >= 299
    db.dispose()
    assert [r.key for r in rows] == [b"s0-value", b"s2-value"]
    decoded = [decode_event(event_schema(), r.value) for r in rows]
    assert [(e["subject"], e["version"]) for e in decoded] == [("s0-value", 0), ("s2-value", 2)]


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
