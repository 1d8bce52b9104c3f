"""Every query the registry runs, over a connection the caller holds inside a transaction.

Nothing here parses or checks schemas; it stores and finds rows. Writers call :func:`lock_subject` first so
concurrent publishers to one subject get contiguous versions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from registry.classification import FieldClass
from registry.storage import statements as st
from registry.storage.tables import (
    GLOBAL_SCOPE,
    change_counter,
    config,
    field_classes,
    mode,
    schema_references,
    schemas,
    semver_marks,
    subject_changes,
    subject_versions,
    subjects,
)

CHANGES_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Reference:
    name: str
    subject: str
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """A schema row; ``metadata`` and ``rule_set`` are canonical JSON text (Confluent data contracts)."""

    id: int
    schema_type: str
    canonical: str
    raw: str
    references: tuple[Reference, ...] = ()
    metadata: str | None = None
    rule_set: str | None = None


@dataclass(frozen=True, slots=True)
class VersionRow:
    subject: str
    version: int
    schema_id: int
    semver: str
    deleted: bool
    deprecated: bool
    created_at: datetime


def fingerprint(
    schema_type: str,
    canonical: str,
    references: Sequence[Reference],
    metadata: str | None = None,
    rule_set: str | None = None,
) -> str:
    """The identity of a schema row: type, canonical text, references and (when present, so rows written
    before migration 0006 keep theirs) metadata and ruleSet, which Confluent counts in a schema's id."""
    digest = hashlib.sha256()
    digest.update(schema_type.encode())
    digest.update(b"\0")
    digest.update(canonical.encode())
    for ref in references:
        digest.update(f"\0{ref.name}\0{ref.subject}\0{ref.version}".encode())
    if metadata is not None:
        digest.update(b"\0metadata\0" + metadata.encode())
    if rule_set is not None:
        digest.update(b"\0ruleSet\0" + rule_set.encode())
    return digest.hexdigest()


def alias_fingerprint(fp: str, schema_id: int) -> str:
    """The fingerprint of a second row holding the schema of fingerprint ``fp``, imported as ``schema_id``."""
    return hashlib.sha256(f"{fp}\0id\0{schema_id}".encode()).hexdigest()


def _insert_ignore(conn: Connection, table: Any, values: dict[str, Any], key: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=[key]))
    else:
        conn.execute(sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=[key]))


def lock_subject(conn: Connection, subject: str) -> None:
    """Create the subject's row if needed and hold a lock on it until the transaction ends."""
    _insert_ignore(conn, subjects, {"name": subject}, "name")
    if conn.dialect.name == "postgresql":
        conn.execute(select(subjects.c.name).where(subjects.c.name == subject).with_for_update())


def store_schema(
    conn: Connection, schema_type: str, canonical: str, raw: str, references: Sequence[Reference]
) -> int:
    """Return the global id of this schema, inserting it if no identical schema exists."""
    return add_schema(conn, schema_type, canonical, raw, references)[0]


def add_schema(
    conn: Connection,
    schema_type: str,
    canonical: str,
    raw: str,
    references: Sequence[Reference],
    *,
    fp: str | None = None,
    schema_id: int | None = None,
    metadata: str | None = None,
    rule_set: str | None = None,
) -> tuple[int, bool]:
    """The global id of this schema and whether this call inserted it (with ``raw`` as its text).

    ``fp`` is the schema's fingerprint when the caller has just looked it up and found no schema;
    ``schema_id`` an id to insert it under (IMPORT mode), which the caller has checked is free.
    """
    # Only the columns set, so a schema without a data contract is written as before migration 0006.
    contract = {k: v for k, v in (("metadata", metadata), ("rule_set", rule_set)) if v is not None}
    if schema_id is not None:
        fp = fp or fingerprint(schema_type, canonical, references, metadata, rule_set)
        conn.execute(
            insert(schemas).values(
                id=schema_id,
                schema_type=schema_type,
                fingerprint=fp,
                canonical=canonical,
                raw=raw,
                **contract,
            )
        )
        _after_explicit_id(conn)
        _insert_references(conn, schema_id, references)
        return schema_id, True
    if fp is None:
        fp = fingerprint(schema_type, canonical, references, metadata, rule_set)
        found = conn.execute(select(schemas.c.id).where(schemas.c.fingerprint == fp)).scalar()
        if found is not None:
            return int(found), False
    values = {"schema_type": schema_type, "fingerprint": fp, "canonical": canonical, "raw": raw, **contract}
    if conn.dialect.name == "postgresql":
        statement: Any = postgresql.insert(schemas)
    else:
        statement = sqlite.insert(schemas)
    inserted = conn.execute(
        statement.values(**values)
        .on_conflict_do_nothing(index_elements=["fingerprint"])
        .returning(schemas.c.id)
    ).scalar()
    if inserted is None:
        return int(conn.execute(select(schemas.c.id).where(schemas.c.fingerprint == fp)).scalar_one()), False
    schema_id = int(inserted)
    _insert_references(conn, schema_id, references)
    return schema_id, True


def _insert_references(conn: Connection, schema_id: int, references: Sequence[Reference]) -> None:
    if references:
        conn.execute(
            insert(schema_references),
            [{"schema_id": schema_id, **ref.as_dict()} for ref in references],
        )


def _after_explicit_id(conn: Connection) -> None:
    """Keep auto-assigned ids above every imported one: PostgreSQL's sequence does not follow an explicit
    id (SQLite's rowid does by itself)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('schemas', 'id'), "
                "GREATEST((SELECT MAX(id) FROM schemas), 1))"
            )
        )


def schema_by_id(conn: Connection, schema_id: int) -> StoredSchema | None:
    row = conn.execute(select(schemas).where(schemas.c.id == schema_id)).first()
    if row is None:
        return None
    refs = conn.execute(
        select(schema_references.c.name, schema_references.c.subject, schema_references.c.version)
        .where(schema_references.c.schema_id == schema_id)
        .order_by(schema_references.c.id)
    ).all()
    return StoredSchema(
        id=row.id,
        schema_type=row.schema_type,
        canonical=row.canonical,
        raw=row.raw,
        references=tuple(Reference(r.name, r.subject, r.version) for r in refs),
        metadata=row.metadata,
        rule_set=row.rule_set,
    )


def max_schema_id(conn: Connection) -> int:
    """The highest global id assigned (0 when there is none)."""
    return int(conn.execute(select(func.max(schemas.c.id))).scalar() or 0)


def schema_id_by_fingerprint(conn: Connection, fp: str) -> int | None:
    found = conn.execute(st.ID_BY_FINGERPRINT, {"fp": fp}).scalar()
    return None if found is None else int(found)


def _version(row: Row[Any]) -> VersionRow:
    return VersionRow(
        subject=row.subject,
        version=row.version,
        schema_id=row.schema_id,
        semver=row.semver,
        deleted=bool(row.deleted),
        deprecated=bool(row.deprecated),
        created_at=row.created_at,
    )


def versions(conn: Connection, subject: str, *, include_deleted: bool = False) -> list[VersionRow]:
    query = select(subject_versions).where(subject_versions.c.subject == subject)
    if not include_deleted:
        query = query.where(subject_versions.c.deleted.is_(False))
    return [_version(r) for r in conn.execute(query.order_by(subject_versions.c.version))]


def version(conn: Connection, subject: str, number: int) -> VersionRow | None:
    row = conn.execute(
        select(subject_versions).where(
            and_(subject_versions.c.subject == subject, subject_versions.c.version == number)
        )
    ).first()
    return None if row is None else _version(row)


def version_with_schema(conn: Connection, subject: str, schema_id: int) -> VersionRow | None:
    """The first live version of ``subject`` that holds ``schema_id``."""
    row = conn.execute(st.LIVE_WITH_SCHEMA, {"subject": subject, "schema_id": schema_id}).first()
    return None if row is None else _version(row)


def live_schema_ids(conn: Connection, subject: str) -> list[int]:
    """Schema ids of the live versions of ``subject``, oldest first."""
    rows = conn.execute(st.LIVE_SCHEMA_IDS, {"subject": subject}).scalars()
    return [int(r) for r in rows]


def latest_version(conn: Connection, subject: str, *, include_deleted: bool = False) -> VersionRow | None:
    row = conn.execute(st.LATEST_ANY if include_deleted else st.LATEST_LIVE, {"subject": subject}).first()
    return None if row is None else _version(row)


def versions_of_schema(
    conn: Connection, schema_id: int, *, include_deleted: bool = False
) -> list[VersionRow]:
    query = select(subject_versions).where(subject_versions.c.schema_id == schema_id)
    if not include_deleted:
        query = query.where(subject_versions.c.deleted.is_(False))
    query = query.order_by(subject_versions.c.subject, subject_versions.c.version)
    return [_version(r) for r in conn.execute(query)]


def add_version(
    conn: Connection, subject: str, schema_id: int, semver: str, *, number: int | None = None
) -> int:
    """Append a version to ``subject`` (which the caller has locked) and return its number: one above the
    highest, or ``number`` (IMPORT mode) when the caller has checked it is free."""
    if number is None:
        top = conn.execute(st.TOP_VERSION, {"subject": subject}).scalar()
        number = int(top or 0) + 1
    conn.execute(
        st.INSERT_VERSION,
        {
            "subject": subject,
            "version": number,
            "schema_id": schema_id,
            "semver": semver,
            "deleted": False,
            "deprecated": False,
            "created_at": datetime.now(UTC),
        },
    )
    return number


def next_version(conn: Connection, subject: str) -> int:
    """The number :func:`add_version` gives the next version of ``subject`` (which the caller has locked)."""
    return int(conn.execute(st.TOP_VERSION, {"subject": subject}).scalar() or 0) + 1


def semver_mark(conn: Connection, subject: str) -> str | None:
    """The highest semantic version ``subject`` ever issued, deleted versions included."""
    found = conn.execute(select(semver_marks.c.semver).where(semver_marks.c.subject == subject)).scalar()
    return None if found is None else str(found)


def set_semver_mark(conn: Connection, subject: str, semver: str) -> None:
    """Record ``semver`` as the highest issued; the caller holds the subject's lock and has compared."""
    conn.execute(delete(semver_marks).where(semver_marks.c.subject == subject))
    conn.execute(insert(semver_marks).values(subject=subject, semver=semver))


def remembered_classes(conn: Connection, subject: str) -> list[FieldClass]:
    """The last tags each field of ``subject`` carried, deleted versions included, by type and key."""
    rows = conn.execute(st.FIELD_CLASSES, {"subject": subject})
    return [FieldClass(r.schema_type, r.field_key, r.path, tuple(json.loads(r.tags))) for r in rows]


def remember_classes(
    conn: Connection, subject: str, known: Sequence[FieldClass], latest: Sequence[FieldClass]
) -> None:
    """Make ``latest`` (every field of a version just appended, untagged ones too) the remembered tags of
    its fields; ``known`` is what :func:`remembered_classes` answered. Fields absent from ``latest`` keep
    theirs. Writes only rows that change, so a publish that keeps the tags costs no write."""
    current = {(c.schema_type, c.key): c for c in known}
    stale = [c for c in latest if (c.schema_type, c.key) in current and current[(c.schema_type, c.key)] != c]
    for kind in {c.schema_type for c in stale}:
        keys = [c.key for c in stale if c.schema_type == kind]
        conn.execute(
            delete(field_classes).where(
                and_(
                    field_classes.c.subject == subject,
                    field_classes.c.schema_type == kind,
                    field_classes.c.field_key.in_(keys),
                )
            )
        )
    fresh = [c for c in latest if c.tags and current.get((c.schema_type, c.key)) != c]
    if fresh:
        conn.execute(
            insert(field_classes),
            [
                {
                    "subject": subject,
                    "schema_type": c.schema_type,
                    "field_key": c.key,
                    "path": c.path,
                    "tags": json.dumps(list(c.tags)),
                }
                for c in fresh
            ],
        )


def all_versions(conn: Connection, *, prefix: str = "", include_deleted: bool = False) -> list[VersionRow]:
    query = select(subject_versions)
    if prefix:
        query = query.where(subject_versions.c.subject.startswith(prefix, autoescape=True))
    if not include_deleted:
        query = query.where(subject_versions.c.deleted.is_(False))
    query = query.order_by(subject_versions.c.subject, subject_versions.c.version)
    return [_version(r) for r in conn.execute(query)]


def subject_names(conn: Connection, *, prefix: str = "", include_deleted: bool = False) -> list[str]:
    query = select(subject_versions.c.subject).distinct()
    if prefix:
        query = query.where(subject_versions.c.subject.startswith(prefix, autoescape=True))
    if not include_deleted:
        query = query.where(subject_versions.c.deleted.is_(False))
    return sorted(str(s) for s in conn.execute(query).scalars())


def mark_deleted(conn: Connection, subject: str, number: int | None) -> None:
    query = update(subject_versions).where(subject_versions.c.subject == subject)
    if number is not None:
        query = query.where(subject_versions.c.version == number)
    conn.execute(query.values(deleted=True))


def mark_deprecated(conn: Connection, subject: str, number: int) -> None:
    conn.execute(
        update(subject_versions)
        .where(and_(subject_versions.c.subject == subject, subject_versions.c.version == number))
        .values(deprecated=True)
    )


def purge(conn: Connection, subject: str, number: int | None) -> None:
    """Remove versions for good (and the subject row when no version is left)."""
    query = delete(subject_versions).where(subject_versions.c.subject == subject)
    if number is not None:
        query = query.where(subject_versions.c.version == number)
    conn.execute(query)
    left = conn.execute(
        select(func.count()).select_from(subject_versions).where(subject_versions.c.subject == subject)
    ).scalar_one()
    if not left:
        conn.execute(delete(subjects).where(subjects.c.name == subject))


def referenced_by(conn: Connection, subject: str, number: int) -> list[int]:
    """Global ids of schemas that reference ``subject`` version ``number``."""
    rows = conn.execute(
        select(schema_references.c.schema_id)
        .where(and_(schema_references.c.subject == subject, schema_references.c.version == number))
        .distinct()
        .order_by(schema_references.c.schema_id)
    ).scalars()
    return [int(r) for r in rows]


def settings_of(
    conn: Connection, subject: str
) -> tuple[dict[str, tuple[str | None, dict[str, Any] | None, str | None]], dict[str, str]]:
    """Configuration (level, lint, compatibility group) and mode rows of ``subject`` and of the global
    scope, by scope."""
    scopes = {"scopes": [subject, GLOBAL_SCOPE]}
    configs = {
        row.scope: (row.compatibility, json.loads(row.lint) if row.lint else None, row.compatibility_group)
        for row in conn.execute(st.CONFIGS, scopes)
    }
    modes = {row.scope: str(row.mode) for row in conn.execute(st.MODES, scopes)}
    return configs, modes


def get_config(conn: Connection, scope: str | None) -> tuple[str | None, dict[str, Any] | None]:
    row = conn.execute(select(config).where(config.c.scope == (scope or GLOBAL_SCOPE))).first()
    if row is None:
        return None, None
    return row.compatibility, (json.loads(row.lint) if row.lint else None)


def get_group(conn: Connection, scope: str | None) -> str | None:
    """The compatibility group (a metadata property name) configured for ``scope``."""
    found = conn.execute(
        select(config.c.compatibility_group).where(config.c.scope == (scope or GLOBAL_SCOPE))
    ).scalar()
    return None if found is None else str(found)


def put_config(
    conn: Connection,
    scope: str | None,
    *,
    compatibility: str | None = None,
    lint: dict[str, Any] | None = None,
    group: str | None = None,
) -> None:
    """Set what is given, keep the rest of the scope's configuration."""
    key = scope or GLOBAL_SCOPE
    current_level, current_lint = get_config(conn, scope)
    current_group = get_group(conn, scope)
    level = compatibility if compatibility is not None else current_level
    lint_value = lint if lint is not None else current_lint
    conn.execute(delete(config).where(config.c.scope == key))
    conn.execute(
        insert(config).values(
            scope=key,
            compatibility=level,
            lint=json.dumps(lint_value) if lint_value is not None else None,
            compatibility_group=group if group is not None else current_group,
        )
    )


def clear_compatibility(conn: Connection, scope: str | None) -> None:
    conn.execute(update(config).where(config.c.scope == (scope or GLOBAL_SCOPE)).values(compatibility=None))


def get_mode(conn: Connection, scope: str | None) -> str | None:
    found = conn.execute(select(mode.c.mode).where(mode.c.scope == (scope or GLOBAL_SCOPE))).scalar()
    return None if found is None else str(found)


def put_mode(conn: Connection, scope: str | None, value: str) -> None:
    key = scope or GLOBAL_SCOPE
    conn.execute(delete(mode).where(mode.c.scope == key))
    conn.execute(insert(mode).values(scope=key, mode=value))


def delete_mode(conn: Connection, scope: str) -> None:
    conn.execute(delete(mode).where(mode.c.scope == scope))


def record_change(conn: Connection, subject: str) -> int:
    """Number a change to ``subject``'s versions; the last statement of its write, as it locks the counter."""
    seq = int(
        conn.execute(
            update(change_counter)
            .where(change_counter.c.id == 1)
            .values(seq=change_counter.c.seq + 1)
            .returning(change_counter.c.seq)
        ).scalar_one()
    )
    conn.execute(insert(subject_changes).values(seq=seq, subject=subject))
    if seq % 1000 == 0:
        conn.execute(delete(subject_changes).where(subject_changes.c.seq <= seq - CHANGES_KEPT))
    return seq


def change_seq(conn: Connection) -> int:
    """The number of the newest committed change."""
    return int(conn.execute(st.CHANGE_SEQ).scalar_one())


def changes_since(conn: Connection, seq: int) -> tuple[int, list[str] | None]:
    """The newest change number and the subjects changed after ``seq``; None when older ones were pruned."""
    newest = change_seq(conn)
    if newest == seq:
        return newest, []
    rows = conn.execute(
        select(subject_changes.c.seq, subject_changes.c.subject)
        .where(and_(subject_changes.c.seq > seq, subject_changes.c.seq <= newest))
        .order_by(subject_changes.c.seq)
    ).all()
    if not rows or int(rows[0].seq) != seq + 1:
        return newest, None
    return newest, list(dict.fromkeys(str(r.subject) for r in rows))


def newest_schemas(conn: Connection, schema_types: Sequence[str]) -> Iterator[StoredSchema]:
    """Every schema of ``schema_types``, newest first, with its references (for warming a cache)."""
    refs: dict[int, list[Reference]] = {}
    for r in conn.execute(select(schema_references).order_by(schema_references.c.id)):
        refs.setdefault(int(r.schema_id), []).append(Reference(r.name, r.subject, r.version))
    query = (
        select(schemas.c.id, schemas.c.schema_type, schemas.c.raw, schemas.c.metadata, schemas.c.rule_set)
        .where(schemas.c.schema_type.in_(schema_types))
        .order_by(schemas.c.id.desc())
        .execution_options(yield_per=2000)
    )
    for row in conn.execute(query):
        yield StoredSchema(
            row.id, row.schema_type, "", row.raw, tuple(refs.get(row.id, ())), row.metadata, row.rule_set
        )


def live_version_ids(conn: Connection) -> Iterator[tuple[str, dict[int, int]]]:
    """Each subject with live versions and their schema ids by version number (for warming a cache)."""
    query = (
        select(subject_versions.c.subject, subject_versions.c.version, subject_versions.c.schema_id)
        .where(subject_versions.c.deleted.is_(False))
        .order_by(subject_versions.c.subject, subject_versions.c.version)
        .execution_options(yield_per=5000)
    )
    subject: str | None = None
    found: dict[int, int] = {}
    for row in conn.execute(query):
        if row.subject != subject:
            if subject is not None:
                yield subject, found
            subject, found = row.subject, {}
        found[int(row.version)] = int(row.schema_id)
    if subject is not None:
        yield subject, found


def live_versions_of(conn: Connection, subject: str) -> dict[int, int]:
    """The schema id of each live version of ``subject``, by version number."""
    rows = conn.execute(st.LIVE_VERSION_IDS, {"subject": subject}).all()
    return {int(r.version): int(r.schema_id) for r in rows}
