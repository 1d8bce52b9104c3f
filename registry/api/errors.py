"""The registry's one error table: each exception class to an HTTP status and a Confluent error code.

Refusals of a schema also carry ``problems`` (path, message, kind), so a CI job can print each one.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from registry import service_errors as se
from registry.errors import (
    InvalidSchemaError,
    LintConfigError,
    SemverError,
    UnknownSchemaTypeError,
)
from spine.errors import SpineError
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
    ErrorRule(se.LintRefusedError, 422, 42230),
    ErrorRule(LintConfigError, 422, 42231),
    ErrorRule(se.SemverUnderstatedError, 422, 42240),
    ErrorRule(SemverError, 422, 42240),
    ErrorRule(se.RequestError, 422, 42200),
    ErrorRule(se.StorageError, 500, 50001),
)

_ORDERED = sorted(ERROR_RULES, key=lambda r: len(r.exc_type.__mro__), reverse=True)


def _problems(exc: Exception) -> list[dict[str, str]]:
    if isinstance(exc, se.ServiceError):
        return [p.as_dict() for p in exc.problems]
    if isinstance(exc, SemverError):
        return [{"path": "", "message": p, "kind": "semver"} for p in exc.problems]
    return [{"path": "", "message": str(exc), "kind": type(exc).__name__}]


def _body(code: int, exc: Exception) -> dict[str, object]:
    body: dict[str, object] = {"error_code": code, "message": str(exc)}
    if code >= 40900 or code == 409:
        body["problems"] = _problems(exc)
    return body


def install_problem_handler(app: FastAPI) -> None:
    """Render registry errors from :data:`ERROR_RULES` with their problems (after ``install_common``)."""

    async def on_registry_error(request: Request, exc: Exception) -> Response:
        for rule in _ORDERED:
            if isinstance(exc, rule.exc_type):
                if rule.status >= 500:
                    logger.error("%s %s failed: %s", request.method, request.url.path, exc)
                return JSONResponse(
                    _body(rule.error_code, exc), status_code=rule.status, media_type=MEDIA_TYPE
                )
        logger.error("unmapped error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            {"error_code": 50001, "message": "internal server error"}, status_code=500, media_type=MEDIA_TYPE
        )

    # Per type too: ``install_common`` registered its plain handler for each rule's type, and Starlette
    # picks the handler of the most specific class.
    for rule in ERROR_RULES:
        if issubclass(rule.exc_type, Exception):
            app.add_exception_handler(rule.exc_type, on_registry_error)
    app.add_exception_handler(SpineError, on_registry_error)
