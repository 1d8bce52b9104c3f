"""The registry's one error table: each exception class to an HTTP status and a Confluent error code.

Refusals of a schema also carry ``problems`` (path, message, kind), so a CI job can print each one.
"""

from __future__ import annotations

import logging

from registry import service_errors as se
from registry.errors import (
    InvalidSchemaError,
    LintConfigError,
    SemverError,
    UnknownSchemaTypeError,
)
from spine.http import AUTH_RULES, ErrorRule

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"

ERROR_RULES: tuple[ErrorRule, ...] = (
    *AUTH_RULES,
    ErrorRule(se.SubjectNotFoundError, 404, 40401),
    ErrorRule(se.VersionNotFoundError, 404, 40402),
    ErrorRule(se.SchemaNotFoundError, 404, 40403),
    ErrorRule(se.SubjectSoftDeletedError, 404, 40404),
    ErrorRule(se.SubjectNotSoftDeletedError, 404, 40405),
    ErrorRule(se.VersionSoftDeletedError, 404, 40406),
    ErrorRule(se.VersionNotSoftDeletedError, 404, 40407),
    ErrorRule(se.SubjectConfigNotFoundError, 404, 40408),
    ErrorRule(se.SubjectModeNotFoundError, 404, 40409),
    ErrorRule(se.IncompatibleSchemaError, 409, 409),
    ErrorRule(InvalidSchemaError, 422, 42201),
    ErrorRule(UnknownSchemaTypeError, 422, 42201),
    ErrorRule(se.InvalidVersionError, 422, 42202),
    ErrorRule(se.InvalidCompatibilityLevelError, 422, 42203),
    ErrorRule(se.InvalidModeError, 422, 42204),
    ErrorRule(se.OperationNotPermittedError, 422, 42205),
    ErrorRule(se.ReferenceExistsError, 422, 42206),
    ErrorRule(se.InvalidSubjectError, 422, 42208),
    ErrorRule(se.LintRefusedError, 422, 42230),
    ErrorRule(LintConfigError, 422, 42231),
    ErrorRule(se.SemverUnderstatedError, 422, 42240),
    ErrorRule(SemverError, 422, 42240),
    ErrorRule(se.RequestError, 422, 42200),
    ErrorRule(se.DeclassificationForbiddenError, 403, 40310),
    ErrorRule(se.DeclassificationRefusedError, 403, 40311),
    ErrorRule(se.AuditUnavailableError, 503, 50310),
    ErrorRule(se.StorageError, 500, 50001),
)


def _problems(exc: Exception) -> list[dict[str, str]]:
    if isinstance(exc, se.ServiceError):
        return [p.as_dict() for p in exc.problems]
    if isinstance(exc, SemverError):
        return [{"path": "", "message": p, "kind": "semver"} for p in exc.problems]
    return [{"path": "", "message": str(exc), "kind": type(exc).__name__}]


def error_body_for(code: int, exc: Exception) -> dict[str, object]:
    body: dict[str, object] = {"error_code": code, "message": str(exc)}
    if code >= 40900 or code == 409 or (isinstance(exc, se.ServiceError) and exc.problems):
        body["problems"] = _problems(exc)
    return body
