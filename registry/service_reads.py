"""The registry's reads: schemas by id (cached), subjects, versions and the lists Confluent's API pages.

Mixed into :class:`registry.service.RegistryService`; each method opens its own read transaction, so the
HTTP routes never touch storage.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from registry.contracts import has_properties
from registry.diff import SchemaChange, diff_schemas
from registry.errors import (
    InvalidSchemaError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    UnknownSchemaTypeError,
    VersionNotFoundError,
)
from registry.schemas import ParsedSchema, SchemaType, TaggedField, parse_schema, schema_type_of
from registry.storage import Database, Reference, StoredSchema, VersionRow
from registry.storage import repository as repo
from registry.storage.cache import IdCache

logger = logging.getLogger(__name__)

SCHEMA_TYPES = frozenset(t.value for t in SchemaType)


@dataclass(frozen=True, slots=True)
class SchemaInput:
    """A schema as a client submits it."""

    schema: str
    schema_type: str | None = None
    references: tuple[Reference, ...] = ()
    # IMPORT mode: the global id and the subject version to keep (Confluent's ``id`` and ``version``).
    schema_id: int | None = None
    version: int | None = None
    # Data contracts (canonical JSON, see registry.contracts).
    metadata: str | None = None
    rule_set: str | None = None


class ReadOperations:
    """Lookups by id, subject and version; the caches are the service's."""

    db: Database
    _schemas: IdCache[StoredSchema | None]
    _parsed: IdCache[ParsedSchema]

    def stored(self, conn: Connection, schema_id: int) -> StoredSchema:
        found = self._schemas.get_or_load(schema_id, lambda: repo.schema_by_id(conn, schema_id))
        if found is None:
            raise SchemaNotFoundError(f"Schema {schema_id} not found")
        return found

    def formatted(self, schema_id: int, fmt: str | None) -> str:
        with self.db.read() as conn:
            return self.parsed(conn, schema_id).formatted(fmt)

    def text(self, stored: StoredSchema, fmt: str | None = None) -> str:
        """The schema as clients read it: Protobuf sent as a descriptor comes back as .proto text."""
        if fmt is None and stored.schema_type != "PROTOBUF":
            return stored.raw
        return self.formatted(stored.id, fmt)

    def schema(self, schema_id: int) -> StoredSchema:
        """A stored schema by global id, from the cache when it is there."""
        cached = self._schemas.peek(schema_id)
        if cached is not None:
            return cached
        with self.db.read() as conn:
            return self.stored(conn, schema_id)

    def _reference_texts(self, conn: Connection, refs: Sequence[Reference]) -> dict[str, str]:
        texts: dict[str, str] = {}
        for ref in refs:
            row = repo.version(conn, ref.subject, ref.version)
            if row is None:
                # Confluent: a reference that does not resolve makes the schema invalid (42201).
                raise InvalidSchemaError(
                    f"Reference {ref.name!r} points to subject {ref.subject!r} version {ref.version}, "
                    "which does not exist"
                )
            stored = self.stored(conn, row.schema_id)
            texts.update(self._reference_texts(conn, stored.references))
            texts[ref.name] = stored.raw
        return texts

    def parse(self, conn: Connection | None, item: SchemaInput) -> ParsedSchema:
        """Parse a submitted schema; ``conn`` may be None when it has no references to resolve."""
        if item.schema_type is not None and item.schema_type not in SCHEMA_TYPES:
            # Confluent looks providers up by the exact name: "avro" is not a type.
            raise UnknownSchemaTypeError(f"Invalid schema type {item.schema_type}")
        kind = schema_type_of(item.schema_type)
        if "\x00" in item.schema:
            raise InvalidSchemaError("schema text contains a NUL character")
        refs: Mapping[str, str] | None = None
        if item.references:
            if conn is None:
                with self.db.read() as reading:
                    refs = self._reference_texts(reading, item.references)
            else:
                refs = self._reference_texts(conn, item.references)
        return parse_schema(kind, item.schema, refs)

    def parsed(self, conn: Connection, schema_id: int) -> ParsedSchema:
        def load() -> ParsedSchema:
            stored = self.stored(conn, schema_id)
            refs = self._reference_texts(conn, stored.references) or None
            return parse_schema(stored.schema_type, stored.raw, refs)

        return self._parsed.get_or_load(schema_id, load)

    def version_row(
        self, conn: Connection, subject: str, number: int | None, *, include_deleted: bool = False
    ) -> VersionRow:
        """``number`` None or -1 means the latest version."""
        if repo.latest_version(conn, subject, include_deleted=True) is None:
            raise SubjectNotFoundError(subject)
        if number is None or number == -1:
            row = repo.latest_version(conn, subject, include_deleted=include_deleted)
        else:
            row = repo.version(conn, subject, number)
            if row is not None and row.deleted and not include_deleted:
                row = None
        if row is None:
            if not include_deleted and repo.latest_version(conn, subject) is None:
                raise SubjectNotFoundError(subject)
            raise VersionNotFoundError(subject, "latest" if number in (None, -1) else str(number))
        return row

    # -- reads in their own transaction (the routes' entry points) ----------------------------------

    def subject_names(
        self, *, prefix: str = "", deleted: bool = False, deleted_only: bool = False
    ) -> list[str]:
        """Subjects with live versions (``deleted`` adds soft-deleted ones; ``deleted_only`` lists only
        subjects whose every version is soft-deleted), sorted, starting with ``prefix``."""
        with self.db.read() as conn:
            live = repo.subject_names(conn, prefix=prefix)
            if not (deleted or deleted_only):
                return live
            every = repo.subject_names(conn, prefix=prefix, include_deleted=True)
        if deleted_only:
            held = set(live)
            return [s for s in every if s not in held]
        return every

    def subject_versions(
        self, subject: str, *, deleted: bool = False, deleted_only: bool = False
    ) -> list[VersionRow]:
        """Versions of ``subject``, oldest first; SubjectNotFoundError when it has none to show."""
        with self.db.read() as conn:
            rows = repo.versions(conn, subject, include_deleted=deleted or deleted_only)
        if deleted_only:
            rows = [r for r in rows if r.deleted]
        if not rows:
            raise SubjectNotFoundError(subject)
        return rows

    def subject_version(self, subject: str, number: int | None, *, deleted: bool = False) -> VersionRow:
        with self.db.read() as conn:
            return self.version_row(conn, subject, number, include_deleted=deleted)

    def version_schema(
        self, subject: str, number: int | None, *, deleted: bool = False
    ) -> tuple[VersionRow, StoredSchema]:
        with self.db.read() as conn:
            row = self.version_row(conn, subject, number, include_deleted=deleted)
            return row, self.stored(conn, row.schema_id)

    def versions_of_schema(self, schema_id: int, *, deleted: bool = False) -> list[VersionRow]:
        """Subject versions that hold ``schema_id``; SchemaNotFoundError when no such id exists."""
        with self.db.read() as conn:
            self.stored(conn, schema_id)
            return repo.versions_of_schema(conn, schema_id, include_deleted=deleted)

    def every_version(
        self, *, prefix: str = "", deleted: bool = False, latest_only: bool = False
    ) -> list[VersionRow]:
        with self.db.read() as conn:
            rows = repo.all_versions(conn, prefix=prefix, include_deleted=deleted)
        if latest_only:
            rows = list({row.subject: row for row in rows}.values())
        return rows

    def latest_with_metadata(
        self, subject: str, wanted: Mapping[str, str], *, deleted: bool = False
    ) -> VersionRow:
        """The newest version whose metadata properties hold every ``wanted`` pair (Confluent's
        getLatestWithMetadata): SubjectNotFoundError without versions, SchemaNotFoundError without a match."""
        with self.db.read() as conn:
            rows = repo.versions(conn, subject, include_deleted=deleted)
            if not rows:
                raise SubjectNotFoundError(subject)
            for row in reversed(rows):
                if has_properties(self.stored(conn, row.schema_id).metadata, wanted):
                    return row
        raise SchemaNotFoundError("Schema not found")

    def max_schema_id(self) -> int:
        with self.db.read() as conn:
            return repo.max_schema_id(conn)

    def referenced_by(self, subject: str, number: int | None) -> list[int]:
        with self.db.read() as conn:
            row = self.version_row(conn, subject, number)
            return repo.referenced_by(conn, subject, row.version)

    def tagged_fields(self, schema_id: int) -> list[TaggedField]:
        with self.db.read() as conn:
            return list(self.parsed(conn, schema_id).tagged_fields())

    def diff_versions(
        self, subject: str, old: int | None, new: int | None
    ) -> tuple[VersionRow, VersionRow, list[SchemaChange]]:
        with self.db.read() as conn:
            before = self.version_row(conn, subject, old)
            after = self.version_row(conn, subject, new)
            changes = diff_schemas(self.parsed(conn, before.schema_id), self.parsed(conn, after.schema_id))
        return before, after, changes
