"""The publish path's SQL statements, built once with bind parameters.

Building a SQLAlchemy statement costs tens of microseconds; a publish runs about ten of them.
"""

from __future__ import annotations

from sqlalchemy import BindParameter, and_, bindparam, func, insert, select

from registry.storage.tables import (
    change_counter,
    config,
    field_classes,
    mode,
    schemas,
    subject_versions,
)

SUBJECT: BindParameter[str] = bindparam("subject")
ID_BY_FINGERPRINT = select(schemas.c.id).where(schemas.c.fingerprint == bindparam("fp"))
LATEST_ANY = (
    select(subject_versions)
    .where(subject_versions.c.subject == SUBJECT)
    .order_by(subject_versions.c.version.desc())
    .limit(1)
)
LATEST_LIVE = (
    select(subject_versions)
    .where(and_(subject_versions.c.subject == SUBJECT, subject_versions.c.deleted.is_(False)))
    .order_by(subject_versions.c.version.desc())
    .limit(1)
)
LIVE_WITH_SCHEMA = (
    select(subject_versions)
    .where(
        and_(
            subject_versions.c.subject == SUBJECT,
            subject_versions.c.schema_id == bindparam("schema_id"),
            subject_versions.c.deleted.is_(False),
        )
    )
    .order_by(subject_versions.c.version)
    .limit(1)
)
LIVE_SCHEMA_IDS = (
    select(subject_versions.c.schema_id)
    .where(and_(subject_versions.c.subject == SUBJECT, subject_versions.c.deleted.is_(False)))
    .order_by(subject_versions.c.version)
)
TOP_VERSION = select(func.max(subject_versions.c.version)).where(subject_versions.c.subject == SUBJECT)
INSERT_VERSION = insert(subject_versions)
SCOPES: BindParameter[list[str]] = bindparam("scopes", expanding=True)
CONFIGS = select(config).where(config.c.scope.in_(SCOPES))
MODES = select(mode).where(mode.c.scope.in_(SCOPES))
FIELD_CLASSES = (
    select(field_classes)
    .where(field_classes.c.subject == SUBJECT)
    .order_by(field_classes.c.schema_type, field_classes.c.field_key)
)
CHANGE_SEQ = select(change_counter.c.seq).where(change_counter.c.id == 1)
LIVE_VERSION_IDS = (
    select(subject_versions.c.version, subject_versions.c.schema_id)
    .where(and_(subject_versions.c.subject == SUBJECT, subject_versions.c.deleted.is_(False)))
    .order_by(subject_versions.c.version)
)
