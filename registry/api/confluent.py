"""Confluent Schema Registry v1 REST API: subjects, versions, schemas by id, config, mode, compatibility.

Routes are thin: they parse path and query values and call :class:`registry.service.RegistryService`;
errors go through the one table in :mod:`registry.api.errors`. Writes need a producer or admin token,
configuration and mode changes an admin token; reads are open.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from registry.api.auth import publisher
from registry.api.errors import MEDIA_TYPE
from registry.api.models import ConfigBody, ModeBody, SchemaBody
from registry.contracts import document
from registry.errors import (
    InvalidVersionError,
    RequestError,
    SchemaNotFoundError,
    SubjectConfigNotFoundError,
)
from registry.read_cache import ReadCache
from registry.schemas import SchemaType
from registry.service import Actor, RegistryService
from registry.storage import StoredSchema, VersionRow
from spine.auth import Role, TokenStore
from spine.http import role_guard

logger = logging.getLogger(__name__)

MAX_VERSION = 2**31 - 1
SchemaId = Annotated[int, Path(ge=0, le=MAX_VERSION, description="Global schema id")]
Offset = Annotated[int, Query(ge=0, le=MAX_VERSION, description="Pagination offset")]
Limit = Annotated[int, Query(ge=-1, le=MAX_VERSION, description="Pagination size; all when not positive")]
# confluent-kafka's Python client sends ``deleted_only`` where Confluent's API names it ``deletedOnly``.
DeletedOnlyAlias = Annotated[bool, Query(description="Alias of deletedOnly")]
T = TypeVar("T")
Subject = Annotated[
    str, Path(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$", description="Subject name")
]


class SchemaRegistryResponse(JSONResponse):
    media_type = MEDIA_TYPE


def encode_json(content: Any) -> bytes:
    """Exactly what :class:`JSONResponse` sends for ``content``, so a body encoded ahead is byte-identical."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()


def parse_version(text: str) -> int | None:
    """``latest`` or ``-1`` → None (the latest); otherwise a version number in [1, 2^31-1]."""
    if text == "latest" or text == "-1":
        return None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_VERSION:
        raise InvalidVersionError(text)
    return int(text)


def schema_fields(service: RegistryService, stored: StoredSchema, fmt: str | None = None) -> dict[str, Any]:
    # Confluent's Schema and SchemaString name the type always, AVRO included.
    body: dict[str, Any] = {"schema": service.text(stored, fmt), "schemaType": stored.schema_type}
    if stored.references:
        body["references"] = [r.as_dict() for r in stored.references]
    if stored.metadata is not None:
        body["metadata"] = document(stored.metadata)
    if stored.rule_set is not None:
        body["ruleSet"] = document(stored.rule_set)
    return body


def version_body(service: RegistryService, row: VersionRow) -> dict[str, Any]:
    stored = service.schema(row.schema_id)
    return {
        "subject": row.subject,
        "version": row.version,
        "id": row.schema_id,
        **schema_fields(service, stored),
    }


def page(items: list[T], offset: int, limit: int) -> list[T]:
    """Confluent's pagination: skip ``offset``, then at most ``limit`` (all when ``limit`` <= 0)."""
    return items[offset:] if limit <= 0 else items[offset : offset + limit]


def schema_body(service: RegistryService, stored: StoredSchema) -> bytes:
    """The body of ``GET /schemas/ids/{id}`` without a format (Protobuf is parsed to answer it)."""
    return encode_json(schema_fields(service, stored))


def confluent_router(service: RegistryService, tokens: TokenStore, *, reads: ReadCache) -> APIRouter:
    writer = Depends(role_guard(tokens, Role.PRODUCER))
    admin = Depends(role_guard(tokens, Role.ADMIN))
    caller = Depends(publisher(tokens))
    router = APIRouter(default_response_class=SchemaRegistryResponse, tags=["confluent"])

    @router.get("/")
    def root() -> dict[str, Any]:
        return {}

    @router.get("/schemas/types")
    def schema_types() -> list[str]:
        return [t.value for t in SchemaType]

    @router.get("/schemas")
    def list_schemas(
        subjectPrefix: str = Query(default="", max_length=255),  # noqa: N803 - Confluent's name
        deleted: bool = False,
        latestOnly: bool = False,  # noqa: N803
        offset: int = Query(default=0, ge=0, le=MAX_VERSION),
        limit: int = Query(default=-1, ge=-1, le=MAX_VERSION),
    ) -> list[dict[str, Any]]:
        rows = service.every_version(prefix=subjectPrefix, deleted=deleted, latest_only=latestOnly)
        return [version_body(service, row) for row in page(rows, offset, limit)]

    @router.get("/schemas/ids/{schema_id}", response_model=dict[str, Any])
    async def schema_by_id(
        schema_id: SchemaId,
        subject: str | None = None,
        format: str | None = Query(default=None, max_length=32),
        fetchMaxId: bool = False,  # noqa: N803 - Confluent's name
    ) -> Response:
        # Plain reads are answered by registry.api.fast_reads before routing; what comes here is the rest.
        del subject
        if not format and not fetchMaxId:
            body = reads.body(schema_id) or await run_in_threadpool(reads.load_body, schema_id)
            if body is None:
                raise SchemaNotFoundError(f"Schema {schema_id} not found")
            return Response(body, media_type=MEDIA_TYPE)
        stored = await run_in_threadpool(service.schema, schema_id)
        answer = await run_in_threadpool(schema_fields, service, stored, format or None)
        if fetchMaxId:
            answer["maxId"] = await run_in_threadpool(service.max_schema_id)
        return SchemaRegistryResponse(answer)

    @router.get("/schemas/ids/{schema_id}/schema")
    def raw_schema_by_id(schema_id: SchemaId) -> Response:
        return Response(service.text(service.schema(schema_id)), media_type=MEDIA_TYPE)

    @router.get("/schemas/ids/{schema_id}/versions")
    def versions_of_schema(
        schema_id: SchemaId, deleted: bool = False, offset: Offset = 0, limit: Limit = -1
    ) -> list[dict[str, Any]]:
        rows = service.versions_of_schema(schema_id, deleted=deleted)
        return page([{"subject": r.subject, "version": r.version} for r in rows], offset, limit)

    @router.get("/schemas/ids/{schema_id}/subjects")
    def subjects_of_schema(
        schema_id: SchemaId, deleted: bool = False, offset: Offset = 0, limit: Limit = -1
    ) -> list[str]:
        rows = service.versions_of_schema(schema_id, deleted=deleted)
        return page(sorted({r.subject for r in rows}), offset, limit)

    @router.get("/subjects")
    def subjects(
        subjectPrefix: str = Query(default="", max_length=255),  # noqa: N803 - Confluent's name
        deleted: bool = False,
        deletedOnly: bool = False,  # noqa: N803
        deleted_only: DeletedOnlyAlias = False,
        offset: Offset = 0,
        limit: Limit = -1,
    ) -> list[str]:
        only = deletedOnly or deleted_only
        names = service.subject_names(prefix=subjectPrefix, deleted=deleted, deleted_only=only)
        return page(names, offset, limit)

    @router.post("/subjects/{subject}")
    def lookup(
        subject: Subject, body: SchemaBody, deleted: bool = False, normalize: bool = False
    ) -> dict[str, Any]:
        del normalize
        row = service.lookup(subject, body.to_input(), include_deleted=deleted)
        return version_body(service, row)

    @router.delete("/subjects/{subject}", dependencies=[writer])
    def delete_subject(subject: Subject, permanent: bool = False) -> list[int]:
        return service.delete_subject(subject, permanent=permanent)

    @router.get("/subjects/{subject}/versions")
    def list_versions(
        subject: Subject,
        deleted: bool = False,
        deletedOnly: bool = False,  # noqa: N803 - Confluent's name
        deleted_only: DeletedOnlyAlias = False,
        offset: Offset = 0,
        limit: Limit = -1,
    ) -> list[int]:
        only = deletedOnly or deleted_only
        rows = service.subject_versions(subject, deleted=deleted, deleted_only=only)
        return page([r.version for r in rows], offset, limit)

    @router.get("/subjects/{subject}/metadata")
    def latest_with_metadata(
        subject: Subject,
        key: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006 - FastAPI's idiom for lists
        value: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006
        deleted: bool = False,
    ) -> dict[str, Any]:
        if len(key) != len(value):
            raise RequestError("key and value must be given the same number of times")
        row = service.latest_with_metadata(subject, dict(zip(key, value, strict=True)), deleted=deleted)
        return version_body(service, row)

    @router.post("/subjects/{subject}/versions")
    def register(
        subject: Subject, body: SchemaBody, normalize: bool = False, actor: Actor = caller
    ) -> dict[str, Any]:
        del normalize
        registered = service.register(subject, body.to_input(), actor)
        return {"id": registered.schema_id, "version": registered.version}

    @router.get("/subjects/{subject}/versions/{version}")
    def get_version(subject: Subject, version: str, deleted: bool = False) -> dict[str, Any]:
        row = service.subject_version(subject, parse_version(version), deleted=deleted)
        return version_body(service, row)

    @router.get("/subjects/{subject}/versions/{version}/schema")
    def get_version_schema(subject: Subject, version: str, deleted: bool = False) -> Response:
        _, stored = service.version_schema(subject, parse_version(version), deleted=deleted)
        return Response(service.text(stored), media_type=MEDIA_TYPE)

    @router.delete("/subjects/{subject}/versions/{version}", dependencies=[writer])
    def delete_version(subject: Subject, version: str, permanent: bool = False) -> int:
        return service.delete_version(subject, parse_version(version), permanent=permanent)

    @router.get("/subjects/{subject}/versions/{version}/referencedby")
    def referenced_by(subject: Subject, version: str) -> list[int]:
        return service.referenced_by(subject, parse_version(version))

    @router.post("/compatibility/subjects/{subject}/versions/{version}")
    def check_version(
        subject: Subject, version: str, body: SchemaBody, verbose: bool = False
    ) -> dict[str, Any]:
        result = service.check_against(subject, parse_version(version), body.to_input(), all_versions=False)
        answer: dict[str, Any] = {"is_compatible": result.compatible}
        if verbose:
            answer["messages"] = result.messages()
        return answer

    @router.post("/compatibility/subjects/{subject}/versions")
    def check_all(subject: Subject, body: SchemaBody, verbose: bool = False) -> dict[str, Any]:
        result = service.check_against(subject, None, body.to_input(), all_versions=True)
        answer: dict[str, Any] = {"is_compatible": result.compatible}
        if verbose:
            answer["messages"] = result.messages()
        return answer

    def config_answer(subject: str | None, key: str, level: str, default_to_global: bool) -> dict[str, str]:
        answer = {key: level}
        group = service.group(subject, default_to_global=default_to_global)
        if group:
            answer["compatibilityGroup"] = group
        return answer

    def put_config(subject: str | None, body: ConfigBody) -> dict[str, str]:
        # An empty body changes nothing and answers the configuration in force, as Confluent's does.
        if not body.level() and body.compatibilityGroup is None:
            level = service.get_level(subject, default_to_global=True)
            return config_answer(subject, "compatibility", level.value, True)
        level = service.set_level(subject, body.level(), group=body.compatibilityGroup)
        if subject is not None and not body.level():
            # Only the group was set: answer the subject's own configuration, as Confluent does.
            return own_config(subject, "compatibility")
        return config_answer(subject, "compatibility", level.value, True)

    def own_config(subject: str, key: str) -> dict[str, str]:
        """A subject's own configuration; 40408 when it has neither a level nor a group."""
        group = service.group(subject, default_to_global=False)
        try:
            answer = {key: service.get_level(subject, default_to_global=False).value}
        except SubjectConfigNotFoundError:
            if group is None:
                raise
            answer = {}
        if group is not None:
            answer["compatibilityGroup"] = group
        return answer

    @router.get("/config")
    def get_global_config() -> dict[str, str]:
        level = service.get_level(None, default_to_global=True).value
        return config_answer(None, "compatibilityLevel", level, True)

    @router.put("/config", dependencies=[admin])
    def put_global_config(body: ConfigBody) -> dict[str, str]:
        return put_config(None, body)

    @router.delete("/config", dependencies=[admin])
    def delete_global_config() -> dict[str, str]:
        return {"compatibilityLevel": service.clear_level(None).value}

    @router.get("/config/{subject}")
    def get_subject_config(subject: Subject, defaultToGlobal: bool = False) -> dict[str, str]:  # noqa: N803
        if not defaultToGlobal:
            return own_config(subject, "compatibilityLevel")
        level = service.get_level(subject, default_to_global=True).value
        return config_answer(subject, "compatibilityLevel", level, True)

    @router.put("/config/{subject}", dependencies=[admin])
    def put_subject_config(subject: Subject, body: ConfigBody) -> dict[str, str]:
        return put_config(subject, body)

    @router.delete("/config/{subject}", dependencies=[admin])
    def delete_subject_config(subject: Subject) -> dict[str, str]:
        return {"compatibilityLevel": service.clear_level(subject).value}

    @router.get("/mode")
    def get_global_mode() -> dict[str, str]:
        return {"mode": service.get_mode(None)}

    @router.put("/mode", dependencies=[admin])
    def put_global_mode(body: ModeBody, force: bool = False) -> dict[str, str]:
        return {"mode": service.set_mode(None, body.mode, force=force)}

    @router.get("/mode/{subject}")
    def get_subject_mode(subject: Subject, defaultToGlobal: bool = False) -> dict[str, str]:  # noqa: N803
        return {"mode": service.get_mode(subject, default_to_global=defaultToGlobal)}

    @router.put("/mode/{subject}", dependencies=[admin])
    def put_subject_mode(subject: Subject, body: ModeBody, force: bool = False) -> dict[str, str]:
        return {"mode": service.set_mode(subject, body.mode, force=force)}

    @router.delete("/mode/{subject}", dependencies=[admin])
    def delete_subject_mode(subject: Subject) -> dict[str, str]:
        return {"mode": service.delete_mode(subject)}

    return router
