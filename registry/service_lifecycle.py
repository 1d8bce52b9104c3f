"""The registry's lifecycle writes: soft and permanent deletes of subjects and versions, deprecation.

Mixed into :class:`registry.service.RegistryService`; each write records a schema event in the outbox in
its transaction and tells ``on_change`` which subject changed once it committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from registry.errors import (
    ReferenceExistsError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from registry.service_config import ConfigOperations, record_event
from registry.service_reads import ReadOperations
from registry.storage import VersionRow
from registry.storage import repository as repo

logger = logging.getLogger(__name__)


class LifecycleOperations(ReadOperations, ConfigOperations):
    """Deletes and deprecation."""

    on_change: Callable[[str], None]

    def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        """Soft-delete a subject's live versions, or (``permanent``) purge its soft-deleted ones.

        A producer may delete for good even when the versions carry classification tags, on purpose: the
        delete cannot declassify anything. Each field's last tags (``field_classes``) and the semver line
        outlive it, so a republish that drops or weakens them is refused for a producer and audited for
        security or admin like any other declassification; schema ids stay readable for records on the
        topic, and the gate denies routes pinned to a purged version. Requiring security here would add a
        gate that protects nothing and break Confluent clients that clean up with a producer credential.
        """
        with self.db.write() as conn:
            repo.lock_subject(conn, subject)
            self._refuse_when_read_only(conn, subject)
            rows = repo.versions(conn, subject, include_deleted=True)
            if not rows:
                repo.purge(conn, subject, None)
                raise SubjectNotFoundError(subject)
            live = [r for r in rows if not r.deleted]
            if permanent:
                if live:
                    raise SubjectNotSoftDeletedError(subject)
                repo.purge(conn, subject, None)
            else:
                if not live:
                    raise SubjectSoftDeletedError(subject)
                repo.mark_deleted(conn, subject, None)
            record_event(conn, self.events_topic, "DELETED", subject, permanent=permanent)
            repo.record_change(conn, subject)
        self.on_change(subject)
        return [r.version for r in (rows if permanent else live)]

    def delete_version(self, subject: str, number: int | None, *, permanent: bool) -> int:
        with self.db.write() as conn:
            repo.lock_subject(conn, subject)
            row = self.version_row(conn, subject, number, include_deleted=permanent or number is not None)
            self._refuse_when_read_only(conn, subject)
            if permanent:
                if not row.deleted:
                    raise VersionNotSoftDeletedError(subject, row.version)
                repo.purge(conn, subject, row.version)
            else:
                if row.deleted:
                    raise VersionSoftDeletedError(subject, row.version)
                if repo.referenced_by(conn, subject, row.version):
                    raise ReferenceExistsError(
                        f"One or more references exist to the schema {{subject={subject},"
                        f"version={row.version}}}"
                    )
                repo.mark_deleted(conn, subject, row.version)
            record_event(
                conn,
                self.events_topic,
                "DELETED",
                subject,
                version=row.version,
                schema_id=row.schema_id,
                permanent=permanent,
            )
            repo.record_change(conn, subject)
        self.on_change(subject)
        return row.version

    def deprecate(self, subject: str, number: int | None) -> VersionRow:
        with self.db.write() as conn:
            row = self.version_row(conn, subject, number)
            repo.mark_deprecated(conn, subject, row.version)
            record_event(
                conn,
                self.events_topic,
                "DEPRECATED",
                subject,
                version=row.version,
                schema_id=row.schema_id,
                semver=row.semver,
            )
            return repo.version(conn, subject, row.version) or row
