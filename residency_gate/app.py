"""The residency gate's HTTP API (FastAPI): evaluate routes, manage the policy and quarantine, read the log.

Who may do what: any valid token may evaluate routes and read the policy in force (every service that moves
data must be able to ask); pushing a policy and quarantining or releasing a sink need ``admin``; reading the
audit log, its checkpoints and recording scan findings or declassifications need ``security`` (or
``admin``). The public key that verifies checkpoints is public. Errors are ``{"error_code", "message"}``
from one table below.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from prometheus_client import Counter, Gauge

from residency_gate.errors import AuditError, PolicyError, ResidencyError, RouteError
from residency_gate.service import (
    BadRequestError,
    ConflictError,
    GateService,
    NotFoundError,
    normalize_time,
)
from residency_gate.storage import (
    DatabaseUnavailableError,
    create_engine,
    default_database_url,
    load_signing_key,
    migrate,
    ping,
)
from residency_gate.tags import RegistryTags
from residency_gate.wire import (
    MAX_BATCH,
    EvaluateBatch,
    RouteModel,
    decisions_json,
    json_schema,
    routes_from_request,
    run_from_request,
)
from spine import outbox
from spine.auth import Principal, Role, TokenStore
from spine.http import AUTH_RULES, ErrorRule, install_common, role_guard
from spine.kafka import TopicSpec
from spine.settings import (
    KafkaSettings,
    OutboxSettings,
    ResidencyGateSettings,
    SpineSettings,
    load_settings,
)
from spine.topics import AUDIT

logger = logging.getLogger(__name__)

SERVICE = "residency-gate"
MAX_PAGE = 10_000

ERROR_RULES = (
    *AUTH_RULES,
    ErrorRule(PolicyError, 422, 42201),
    ErrorRule(RouteError, 422, 42202),
    ErrorRule(BadRequestError, 422, 42203),
    ErrorRule(NotFoundError, 404, 40401),
    ErrorRule(ConflictError, 409, 40901),
    ErrorRule(DatabaseUnavailableError, 503, 50301),
    ErrorRule(AuditError, 500, 50002),
    ErrorRule(ResidencyError, 400, 40001),
)


EVALUATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": json_schema(RouteModel | EvaluateBatch)}},
    }
}
POLICY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/yaml": {"schema": {"type": "string"}}, "application/json": {"schema": {}}},
    }
}


def _json_body(raw: bytes) -> Any:
    try:
        payload = json.loads(raw)
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(f"request body is not valid JSON: {exc}") from None
    except UnicodeEncodeError:
        raise BadRequestError("request body contains an unpaired UTF-16 surrogate escape") from None
    return payload


_NOTICE_KEYS = {"subject", "version", "semver", "schema_id", "fields"}
_FIELD_KEYS = {"field", "removed_tags", "now"}
MAX_NAME = 1000


def _name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME


def _declassification(payload: Any) -> dict[str, Any]:
    """The registry's notice of a declassification, checked: names and tags only, nothing else."""
    if (
        not isinstance(payload, dict)
        or set(payload) - _NOTICE_KEYS
        or not _NOTICE_KEYS - {"schema_id"} <= set(payload)
    ):
        raise BadRequestError(f"body must be an object with keys {', '.join(sorted(_NOTICE_KEYS))}")
    version, schema_id = payload["version"], payload.get("schema_id")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 2**31 - 1:
        raise BadRequestError("'version' must be a version number")
    if schema_id is not None and (
        not isinstance(schema_id, int) or isinstance(schema_id, bool) or schema_id < 0
    ):
        raise BadRequestError("'schema_id' must be a schema id or null")
    if not _name(payload["subject"]) or not _name(payload["semver"]):
        raise BadRequestError(f"'subject' and 'semver' must be strings of 1 to {MAX_NAME} characters")
    items = payload["fields"]
    if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
        raise BadRequestError(f"'fields' must list 1 to {MAX_BATCH} declassified fields")
    fields: list[tuple[str, list[str], str]] = []
    for index, item in enumerate(items):
        removed = item.get("removed_tags") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or set(item) != _FIELD_KEYS
            or not _name(item["field"])
            or not _name(item["now"])
            or not isinstance(removed, list)
            or not removed
            or not all(_name(tag) for tag in removed)
        ):
            raise BadRequestError(
                f"fields[{index}] must be {{'field': name, 'removed_tags': [tag, ...], 'now': name}}"
            )
        fields.append((item["field"], removed, item["now"]))
    return {
        "subject": payload["subject"],
        "version": version,
        "semver": payload["semver"],
        "schema_id": schema_id,
        "fields": fields,
    }


class _CheckpointTimer:
    """Sign a checkpoint every ``seconds`` when records were added since the last one."""

    def __init__(self, service: GateService, seconds: float) -> None:
        self._service = service
        self._seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="residency-checkpoints", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _run(self) -> None:
        while not self._stop.wait(self._seconds):
            try:
                self._service.checkpoint()
            except Exception:
                logger.exception("signing a timed checkpoint failed; retrying next period")


def create_app(
    settings: ResidencyGateSettings | None = None,
    *,
    spine: SpineSettings | None = None,
    kafka: KafkaSettings | None = None,
    outbox_settings: OutboxSettings | None = None,
) -> FastAPI:
    """Build the gate: migrate the database, load state, and wire routes, relay and checkpoint timer."""
    settings = settings or load_settings(ResidencyGateSettings)
    spine = spine or load_settings(SpineSettings)
    kafka = kafka if kafka is not None else load_settings(KafkaSettings)
    relaying = outbox_settings or load_settings(OutboxSettings)
    engine = create_engine(settings.database_url or default_database_url(spine.home))
    migrate(engine)
    signing = settings.signing_key.get_secret_value() if settings.signing_key else None
    key_pem = load_signing_key(signing, spine.home / "residency" / "signing-key.pem")
    registry_url = settings.registry_url or f"http://{spine.host}:{spine.port('registry')}"
    tags = RegistryTags(registry_url, version_ttl=settings.registry_version_ttl)
    service = GateService(
        engine, signing_key_pem=key_pem, checkpoint_every=settings.checkpoint_every, tags=tags.lookup
    )
    service.load(settings.policy_file)
    relay = None
    if kafka.bootstrap:
        relay = outbox.OutboxRelay(
            engine,
            kafka,
            name=SERVICE,
            topics={AUDIT: TopicSpec(AUDIT, partitions=1), **service.lineage.emitter.topic_specs()},
            delivery_timeout_s=relaying.delivery_timeout_s,
            max_backoff_s=relaying.max_backoff_s,
        )
        service.on_append = relay.wake
    else:
        logger.warning("no Kafka bootstrap configured: audit records stay in the outbox until one is")
    timer = _CheckpointTimer(service, settings.checkpoint_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        timer.start()
        if relay is not None:
            relay.start()
        try:
            yield
        finally:
            timer.stop()
            await run_in_threadpool(service.checkpoint)
            if relay is not None:
                await run_in_threadpool(relay.stop)
            tags.close()
            engine.dispose()

    app = FastAPI(title="Data Spine residency gate", version="1", lifespan=lifespan)
    app.state.service = service
    app.state.relay = relay

    async def database_ready() -> None:
        await run_in_threadpool(ping, engine)

    registry = install_common(
        app,
        service=SERVICE,
        rules=ERROR_RULES,
        ready_checks=(
            database_ready,
            outbox.outbox_ready_check(SERVICE, service.outbox_stats, relaying.degraded_after_s),
        ),
        max_body_bytes=settings.max_body_bytes,
    )
    decisions_total = Counter("residency_decisions_total", "Decisions made", ["outcome"], registry=registry)
    Gauge("residency_audit_records", "Records in the audit log", registry=registry).set_function(
        lambda: service.size()
    )
    Gauge("residency_quarantined_sinks", "Sinks quarantined", registry=registry).set_function(
        lambda: len(service.quarantined)
    )
    Gauge(
        "residency_outbox_pending", "Audit records not yet published to Kafka", registry=registry
    ).set_function(lambda: service.outbox_pending())
    outbox.register_outbox_metrics(registry, SERVICE, service.outbox_stats)

    store = TokenStore(spine.tokens_path)
    any_role = role_guard(store, *Role)
    admin = role_guard(store, Role.ADMIN)
    security = role_guard(store, Role.SECURITY)

    @app.post("/v1/evaluate", openapi_extra=EVALUATE_BODY)
    async def evaluate_routes(request: Request, _: Principal = Depends(any_role)) -> Response:
        payload = _json_body(await request.body())
        routes, _batch = routes_from_request(payload)
        run = run_from_request(payload)
        decisions = await run_in_threadpool(service.evaluate, routes, run)
        for decision in decisions:
            decisions_total.labels(decision.outcome.value).inc()
        return Response(decisions_json(decisions), media_type="application/json")

    @app.get("/v1/policy")
    async def get_policy(_: Principal = Depends(any_role)) -> dict[str, Any]:
        return service.active.to_dict()

    @app.get("/v1/policy/revisions")
    async def policy_revisions(_: Principal = Depends(any_role)) -> dict[str, Any]:
        return {"revisions": await run_in_threadpool(service.policy_history)}

    @app.post("/v1/policy", openapi_extra=POLICY_BODY)
    async def push_policy(
        request: Request,
        principal: Principal = Depends(admin),
        source: Annotated[str, Query(max_length=200)] = "policy",
    ) -> Response:
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError(source, None, "the policy is not UTF-8 text") from None
        active, changed = await run_in_threadpool(
            lambda: service.push_policy(text, source=source, actor=principal.name)
        )
        body = {**active.to_dict(with_document=False), "changed": changed}
        return Response(json.dumps(body), status_code=201 if changed else 200, media_type="application/json")

    @app.get("/v1/audit")
    async def read_audit(
        _: Principal = Depends(security),
        since_seq: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        decision_id: Annotated[str | None, Query(max_length=80)] = None,
        since: str | None = None,
        until: str | None = None,
    ) -> dict[str, Any]:
        if decision_id is not None:
            records = await run_in_threadpool(service.decision_records, decision_id)
        else:
            lower = normalize_time(since, "since") if since else None
            upper = normalize_time(until, "until") if until else None
            records = await run_in_threadpool(
                lambda: service.records(since_seq=since_seq, limit=limit, since=lower, until=upper)
            )
        next_seq = records[-1]["seq"] + 1 if records else since_seq
        size = await run_in_threadpool(service.size)
        return {"records": records, "next_seq": next_seq, "size": size}

    @app.get("/v1/audit/checkpoints")
    async def list_checkpoints(_: Principal = Depends(security)) -> dict[str, Any]:
        return {"checkpoints": await run_in_threadpool(service.checkpoints)}

    @app.post("/v1/audit/checkpoints")
    async def sign_checkpoint_now(_: Principal = Depends(security), force: bool = False) -> dict[str, Any]:
        """Sign the log as the gate holds it now; ``force`` signs even when nothing was added (and says
        what it signed), which is how online verification covers the newest records."""
        checkpoint = await run_in_threadpool(lambda: service.checkpoint(force=force))
        return {
            "signed": checkpoint is not None,
            "checkpoint": checkpoint.to_dict() if checkpoint is not None else None,
            "checkpoints": await run_in_threadpool(service.checkpoints),
        }

    @app.get("/v1/audit/public-key")
    async def public_key() -> dict[str, str]:
        return {"key_id": service.key_id, "public_key_pem": service.public_key_pem.decode("ascii")}

    @app.post("/v1/audit/findings")
    async def record_findings(request: Request, principal: Principal = Depends(security)) -> dict[str, Any]:
        payload = _json_body(await request.body())
        items = payload.get("findings") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise BadRequestError("body must be {'findings': [{'subject': ..., 'detail': ...}]}")
        findings: list[tuple[str, str]] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) and item.get(k) for k in ("subject", "detail")
            ):
                raise BadRequestError(f"findings[{index}] needs non-empty strings 'subject' and 'detail'")
            findings.append((item["subject"], item["detail"]))
        records = await run_in_threadpool(lambda: service.record_findings(findings, actor=principal.name))
        return {"records": records}

    @app.post("/v1/audit/declassifications")
    async def record_declassification(request: Request, principal: Principal = Depends(security)) -> Response:
        notice = _declassification(_json_body(await request.body()))
        record = await run_in_threadpool(
            lambda: service.record_declassification(**notice, actor=principal.name)
        )
        return Response(json.dumps({"record": record}), status_code=201, media_type="application/json")

    @app.get("/v1/quarantine")
    async def list_quarantine(_: Principal = Depends(any_role)) -> dict[str, Any]:
        entries = await run_in_threadpool(service.quarantine_list)
        return {
            "quarantined": [
                {"sink": q.sink, "reason": q.reason, "created_by": q.created_by, "created_at": q.created_at}
                for q in entries
            ]
        }

    @app.post("/v1/quarantine/{sink}")
    async def quarantine_sink(sink: str, request: Request, principal: Principal = Depends(admin)) -> Response:
        raw = await request.body()
        payload = _json_body(raw) if raw.strip() else {}
        reason = payload.get("reason") if isinstance(payload, dict) else None
        if reason is not None and not isinstance(reason, str):
            raise BadRequestError("'reason' must be a string")
        added = await run_in_threadpool(
            lambda: service.quarantine(sink, reason=reason or "quarantined", actor=principal.name)
        )
        body = {"sink": sink, "quarantined": True, "changed": added}
        return Response(json.dumps(body), status_code=201 if added else 200, media_type="application/json")

    @app.delete("/v1/quarantine/{sink}")
    async def release_sink(sink: str, principal: Principal = Depends(admin)) -> dict[str, Any]:
        await run_in_threadpool(lambda: service.release(sink, actor=principal.name))
        return {"sink": sink, "quarantined": False}

    return app


__all__ = ["ERROR_RULES", "SERVICE", "create_app"]
