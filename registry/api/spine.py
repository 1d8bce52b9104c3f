"""The spine API beside Confluent's: semver-gated publish, tags, deprecation, rollback, lint configuration.

``POST /schemas/{subject}`` is the kickoff plan's interface: it answers with the change class, the
resulting semantic version and the governed topic, and refuses an understated version (42240), a lint
error (42230) or an incompatible change not declared MAJOR (409), each with ``problems``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Query

from registry.api.auth import publisher
from registry.api.confluent import SchemaRegistryResponse, Subject, parse_version
from registry.api.models import LintConfigBody, PublishBody, RollbackBody
from registry.semver import SemVer
from registry.service import Actor, PublishResult, RegistryService, governed_topic
from registry.storage import VersionRow
from spine.auth import Role, TokenStore
from spine.http import role_guard

logger = logging.getLogger(__name__)


def publish_body(result: PublishResult) -> dict[str, Any]:
    return {
        "subject": result.subject,
        "id": result.id,
        "version": result.version,
        "semver": result.semver,
        "change": result.change,
        "reasons": result.reasons,
        "topic": result.topic,
        "notice": result.notice,
        "lint": result.lint,
        "incompatibilities": result.incompatibilities,
        "dryRun": result.dry_run,
    }


def spine_router(service: RegistryService, tokens: TokenStore) -> APIRouter:
    writer = Depends(role_guard(tokens, Role.PRODUCER))
    admin = Depends(role_guard(tokens, Role.ADMIN))
    caller = Depends(publisher(tokens))
    router = APIRouter(default_response_class=SchemaRegistryResponse, tags=["spine"])

    def describe(row: VersionRow) -> dict[str, Any]:
        stored = service.schema(row.schema_id)
        tags = service.tagged_fields(row.schema_id)
        return {
            "subject": row.subject,
            "version": row.version,
            "id": row.schema_id,
            "semver": row.semver,
            "schemaType": stored.schema_type,
            "schema": service.text(stored),
            "references": [r.as_dict() for r in stored.references],
            "deprecated": row.deprecated,
            "topic": governed_topic(row.subject, SemVer.parse(row.semver).major),
            "createdAt": row.created_at.isoformat(),
            "tags": [{"path": t.path, "tags": list(t.tags)} for t in tags],
        }

    @router.get("/schemas/{subject}", summary="Latest version of a subject with its semver, tags and state")
    def latest(subject: Subject) -> dict[str, Any]:
        return describe(service.subject_version(subject, None))

    @router.get("/schemas/{subject}/versions", summary="Every live version of a subject with its semver")
    def versions(subject: Subject) -> list[dict[str, Any]]:
        rows = service.subject_versions(subject)
        return [
            {"version": r.version, "id": r.schema_id, "semver": r.semver, "deprecated": r.deprecated}
            for r in rows
        ]

    @router.get(
        "/schemas/{subject}/versions/{version}", summary="One version with its semver, tags and state"
    )
    def one_version(subject: Subject, version: str) -> dict[str, Any]:
        return describe(service.subject_version(subject, parse_version(version)))

    @router.get("/schemas/{subject}/diff", summary="Field-level changes between two versions, each classed")
    def diff(
        subject: Subject,
        from_: str = Query(alias="from", max_length=16, description="Version number or 'latest'"),
        to: str = Query(default="latest", max_length=16, description="Version number or 'latest'"),
    ) -> dict[str, Any]:
        old, new, changes = service.diff_versions(subject, parse_version(from_), parse_version(to))
        return {
            "subject": subject,
            "from": {"version": old.version, "semver": old.semver},
            "to": {"version": new.version, "semver": new.semver},
            "changes": [
                {"path": c.path, "description": c.description, "change": c.change.value} for c in changes
            ],
        }

    @router.post(
        "/schemas/{subject}",
        summary="Publish through the semver gate (dryRun validates without publishing); removing or "
        "weakening a field's tags needs the security or admin role and is audited by the residency gate",
    )
    def publish(subject: Subject, body: PublishBody, actor: Actor = caller) -> dict[str, Any]:
        result = service.publish(subject, body.to_input(), body.version, dry_run=body.dryRun, actor=actor)
        return publish_body(result)

    @router.get("/schemas/{subject}/versions/{version}/tags", summary="Fields of a version and their tags")
    def tags(subject: Subject, version: str) -> dict[str, Any]:
        row = service.subject_version(subject, parse_version(version))
        fields = service.tagged_fields(row.schema_id)
        return {
            "subject": subject,
            "version": row.version,
            "id": row.schema_id,
            "fields": [{"path": f.path, "tags": list(f.tags)} for f in fields],
        }

    @router.post("/schemas/{subject}/versions/{version}/deprecate", dependencies=[writer])
    def deprecate(subject: Subject, version: str) -> dict[str, Any]:
        return describe(service.deprecate(subject, parse_version(version)))

    @router.post("/schemas/{subject}/rollback", summary="Re-register version N as latest")
    def rollback(subject: Subject, body: RollbackBody, actor: Actor = caller) -> dict[str, Any]:
        return publish_body(service.rollback(subject, body.to, body.version, actor))

    @router.get(
        "/schemas/{subject}/lint", summary="Lint configuration of a subject (merged over the global one)"
    )
    def get_lint(subject: Subject) -> dict[str, Any]:
        return service.get_lint(subject)

    @router.put("/schemas/{subject}/lint", dependencies=[admin])
    def put_lint(subject: Subject, body: LintConfigBody) -> dict[str, Any]:
        return service.set_lint(subject, body.as_mapping())

    @router.get("/lint", summary="Global lint configuration")
    def get_global_lint() -> dict[str, Any]:
        return service.get_lint(None)

    @router.put("/lint", dependencies=[admin])
    def put_global_lint(body: LintConfigBody) -> dict[str, Any]:
        return service.set_lint(None, body.as_mapping())

    return router
