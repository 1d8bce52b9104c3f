"""The registry's one error table: each exception class to an HTTP status and a Confluent error code.

Refusals of a schema also carry ``problems`` (path, message, kind), so a CI job can print each one.
"""

from __future__ import annotations

import logging

from registry import errors as se
from registry.errors import (
    InvalidSchemaError,
    LintConfigError,
    SemverError,
    UnknownSchemaTypeError,
)
from spine.http import AUTH_RULES, ErrorRule
from spine.registry_codes import SchemaErrorCode as C

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"

ERROR_RULES: tuple[ErrorRule, ...] = (
    *AUTH_RULES,
    ErrorRule(se.SubjectNotFoundError, 404, C.SUBJECT_NOT_FOUND),
    ErrorRule(se.VersionNotFoundError, 404, C.VERSION_NOT_FOUND),
    ErrorRule(se.SchemaNotFoundError, 404, C.SCHEMA_NOT_FOUND),
    ErrorRule(se.SubjectSoftDeletedError, 404, C.SUBJECT_SOFT_DELETED),
    ErrorRule(se.SubjectNotSoftDeletedError, 404, C.SUBJECT_NOT_SOFT_DELETED),
    ErrorRule(se.VersionSoftDeletedError, 404, C.SCHEMAVERSION_SOFT_DELETED),
    ErrorRule(se.VersionNotSoftDeletedError, 404, C.SCHEMAVERSION_NOT_SOFT_DELETED),
    ErrorRule(se.SubjectConfigNotFoundError, 404, C.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED),
    ErrorRule(se.SubjectModeNotFoundError, 404, C.SUBJECT_LEVEL_MODE_NOT_CONFIGURED),
    ErrorRule(se.IncompatibleSchemaError, 409, C.INCOMPATIBLE_SCHEMA),
    ErrorRule(InvalidSchemaError, 422, C.INVALID_SCHEMA),
    ErrorRule(UnknownSchemaTypeError, 422, C.INVALID_SCHEMA),
    ErrorRule(se.InvalidVersionError, 422, C.INVALID_VERSION),
    ErrorRule(se.InvalidCompatibilityLevelError, 422, C.INVALID_COMPATIBILITY_LEVEL),
    ErrorRule(se.InvalidModeError, 422, C.INVALID_MODE),
    ErrorRule(se.OperationNotPermittedError, 422, C.OPERATION_NOT_PERMITTED),
    ErrorRule(se.ReferenceExistsError, 422, C.REFERENCE_EXISTS),
    ErrorRule(se.InvalidSubjectError, 422, C.INVALID_SUBJECT),
    ErrorRule(se.LintRefusedError, 422, C.LINT_REFUSED),
    ErrorRule(LintConfigError, 422, C.LINT_CONFIG_INVALID),
    ErrorRule(se.SemverUnderstatedError, 422, C.SEMVER_REFUSED),
    ErrorRule(SemverError, 422, C.SEMVER_REFUSED),
    ErrorRule(se.RequestError, 422, C.UNPROCESSABLE_REQUEST),
    ErrorRule(se.DeclassificationForbiddenError, 403, C.DECLASSIFICATION_FORBIDDEN),
    ErrorRule(se.DeclassificationRefusedError, 403, C.DECLASSIFICATION_REFUSED),
    ErrorRule(se.AuditUnavailableError, 503, C.AUDIT_UNAVAILABLE),
    ErrorRule(se.StorageError, 500, C.STORE_ERROR),
)


def _problems(exc: Exception) -> list[dict[str, str]]:
    if isinstance(exc, se.ServiceError):
        return [p.as_dict() for p in exc.problems]
    if isinstance(exc, SemverError):
        return [{"path": "", "message": p, "kind": "semver"} for p in exc.problems]
    return [{"path": "", "message": str(exc), "kind": type(exc).__name__}]


def error_body_for(code: int, exc: Exception) -> dict[str, object]:
    body: dict[str, object] = {"error_code": code, "message": str(exc)}
    if code >= 40900 or code == C.INCOMPATIBLE_SCHEMA or (isinstance(exc, se.ServiceError) and exc.problems):
        body["problems"] = _problems(exc)
    return body
