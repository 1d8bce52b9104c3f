"""Build the registry's FastAPI app: storage, migrations, both APIs, the error table and the outbox relay."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.api.confluent import confluent_router, schema_body
from registry.api.errors import ERROR_RULES, MEDIA_TYPE, error_body_for
from registry.api.fast_reads import FastReads
from registry.api.spine import spine_router
from registry.events import events_topic_spec
from registry.gate_audit import GateAudit
from registry.lineage import RegistryLineage
from registry.metrics import register_cache_metrics
from registry.read_cache import ChangeWatcher, ReadCache
from registry.service import RegistryService
from registry.storage import Database, sqlite_url
from spine import outbox
from spine.auth import TokenStore
from spine.http import install_common
from spine.registry_codes import SchemaErrorCode
from spine.settings import KafkaSettings, OutboxSettings, RegistrySettings, SpineSettings, load_settings

logger = logging.getLogger(__name__)

_JSON_ALIASES = {b"application/octet-stream", b"*/*", b""}


class ConfluentContentTypes:
    """Confluent accepts request bodies sent as octet-stream or without a content type: read them as JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT"):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            current = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
            if current.split(b";")[0].strip().lower() in _JSON_ALIASES:
                scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)


def create_app(
    settings: RegistrySettings,
    *,
    spine: SpineSettings | None = None,
    kafka: KafkaSettings | None = None,
    outbox_settings: OutboxSettings | None = None,
) -> FastAPI:
    """The registry app; migrations run here, the read cache is warmed and the outbox relay started with
    the app's lifespan."""
    started = time.perf_counter()
    spine = spine or SpineSettings()
    relaying = outbox_settings or load_settings(OutboxSettings)
    db = Database(settings.database_url or sqlite_url(spine.home))
    db.migrate()
    gate = (
        GateAudit(settings.residency_url, timeout=settings.residency_timeout)
        if settings.residency_url
        else None
    )
    if gate is None:
        logger.warning("no residency gate configured: every declassification will be refused")
    # Governed topics live on the cluster the spine uses: it names the datasets (kafka://<bootstrap>).
    bootstrap = (
        kafka.bootstrap if kafka is not None and kafka.bootstrap else f"{spine.host}:{spine.port('broker')}"
    )
    lineage = RegistryLineage(bootstrap)
    service = RegistryService(db, audit=gate.record if gate is not None else None, lineage=lineage)
    tokens = TokenStore(spine.tokens_path)
    reads = ReadCache(
        db,
        max_bytes=settings.read_cache_bytes,
        load=service.schema,
        encode=lambda stored: schema_body(service, stored),
    )
    service.on_change = reads.invalidate
    watcher = ChangeWatcher(reads, interval_s=settings.change_poll_interval)
    startup: dict[str, float] = {}
    relay = None
    if kafka is not None and kafka.bootstrap:
        relay = outbox.OutboxRelay(
            db.engine,
            kafka,
            name="registry",
            topics={
                service.events_topic: events_topic_spec(service.events_topic),
                **lineage.emitter.topic_specs(),
            },
            delivery_timeout_s=relaying.delivery_timeout_s,
            max_backoff_s=relaying.max_backoff_s,
        )
        db.on_commit = relay.wake
    else:
        logger.warning("no Kafka bootstrap configured: schema events wait in the outbox")

    def outbox_stats() -> outbox.OutboxStats:
        with db.read() as conn:
            return outbox.stats(conn)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(watcher.mark)
        await asyncio.to_thread(reads.warm)
        watcher.start()
        startup["seconds"] = time.perf_counter() - started
        if relay is not None:
            relay.start()
        try:
            yield
        finally:
            watcher.stop()
            if relay is not None:
                await asyncio.to_thread(relay.stop)
            if gate is not None:
                gate.close()
            db.dispose()

    app = FastAPI(
        title="Data Spine schema registry",
        version="1.0.0",
        description="Confluent Schema Registry v1 API plus a semver gate, linting and field tags.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.relay = relay

    async def database_ready() -> None:
        await asyncio.to_thread(db.ping)

    app.add_middleware(FastReads, cache=reads)  # first added: inside metrics and body limit
    metrics = install_common(
        app,
        service="registry",
        rules=ERROR_RULES,
        ready_checks=[
            database_ready,
            outbox.outbox_ready_check("registry", outbox_stats, relaying.degraded_after_s),
        ],
        validation_error_code=SchemaErrorCode.UNPROCESSABLE_REQUEST,
        field_error_codes={"ruleSet": SchemaErrorCode.INVALID_RULESET},
        not_found_code=404,
        media_type=MEDIA_TYPE,
        max_body_bytes=settings.max_body_bytes,
        body_for=error_body_for,
    )
    outbox.register_outbox_metrics(metrics, "registry", outbox_stats)
    register_cache_metrics(metrics, reads, watcher, lambda: startup.get("seconds", 0.0))
    app.include_router(confluent_router(service, tokens, reads=reads))
    app.include_router(spine_router(service, tokens))
    app.add_middleware(ConfluentContentTypes)
    return app
