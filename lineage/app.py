"""The lineage service's HTTP API (FastAPI): OpenLineage ingest and a Marquez-compatible read API.

``POST /api/v1/lineage`` (one event, answered ``201`` with no body like Marquez) and
``POST /api/v1/lineage/batch`` (a JSON array, all or nothing) need a ``producer`` token (or ``admin``);
reads are open, as Marquez's are, so the UI served at ``/`` can use them. Errors are
``{"error_code", "message"}`` from one table below; an invalid event's answer adds ``problems``, each with
its JSON path.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter, Gauge

from lineage.consumer import LineageConsumer
from lineage.errors import (
    BadRequestError,
    DatabaseUnavailableError,
    InvalidEventError,
    LineageError,
    LineageErrorCode,
    NotFoundError,
)
from lineage.graph import Direction
from lineage.service import MAX_DEPTH, LineageService, parse_time
from lineage.storage import create_engine, default_database_url, migrate, ping
from spine.auth import Principal, Role, TokenStore
from spine.http import AUTH_RULES, ErrorRule, error_body, install_common, role_guard
from spine.settings import KafkaSettings, LineageSettings, SpineSettings, load_settings
from spine.topics import LINEAGE

logger = logging.getLogger(__name__)

SERVICE = "lineage"
UI_DIR = Path(__file__).resolve().parent / "ui"
MAX_BATCH = 5000
MAX_PAGE = 10_000

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=2**31)]
Depth = Annotated[int, Query(ge=0, le=MAX_DEPTH)]
Name = Annotated[str, Query(min_length=1, max_length=4000)]

ERROR_RULES = (
    *AUTH_RULES,
    ErrorRule(InvalidEventError, 422, int(LineageErrorCode.INVALID_EVENT)),
    ErrorRule(BadRequestError, 400, int(LineageErrorCode.BAD_REQUEST)),
    ErrorRule(NotFoundError, 404, int(LineageErrorCode.NOT_FOUND)),
    ErrorRule(DatabaseUnavailableError, 503, int(LineageErrorCode.DATABASE_UNAVAILABLE)),
    ErrorRule(LineageError, 400, int(LineageErrorCode.BAD_REQUEST)),
)

EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object", "description": "An OpenLineage event"}}
        },
    },
    "responses": {"201": {"description": "Stored (or already stored)"}},
}
BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
    }
}


def _error_body(error_code: int, exc: Exception) -> dict[str, object]:
    if isinstance(exc, InvalidEventError):
        body = error_body(int(exc.code), str(exc))
        body["problems"] = [p.to_dict() for p in exc.problems]
        return body
    if isinstance(exc, BadRequestError):
        return error_body(int(exc.code), str(exc))
    return error_body(error_code, str(exc))


def _decode(raw: bytes, encoding: str | None, limit: int) -> Any:
    if encoding and encoding.lower() in ("gzip", "deflate"):
        try:
            inflater = zlib.decompressobj(wbits=31 if encoding.lower() == "gzip" else 15)
            raw = inflater.decompress(raw, limit + 1)
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise BadRequestError(f"request body is not valid {encoding}: {exc}") from None
        if len(raw) > limit:
            raise BadRequestError(f"decompressed request body exceeds {limit} bytes")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestError(
            f"request body is not valid JSON: {exc}", LineageErrorCode.MALFORMED_JSON
        ) from None
    except RecursionError:
        raise BadRequestError("request body nests too deeply", LineageErrorCode.MALFORMED_JSON) from None


def create_app(
    settings: LineageSettings | None = None,
    *,
    spine: SpineSettings | None = None,
    kafka: KafkaSettings | None = None,
    topic: str | None = None,
) -> FastAPI:
    """Build the service: migrate the database, start the Kafka consumer with the app, wire the routes."""
    settings = settings or load_settings(LineageSettings)
    spine = spine or load_settings(SpineSettings)
    kafka = kafka if kafka is not None else load_settings(KafkaSettings)
    engine = create_engine(settings.database_url or default_database_url(spine.home))
    migrate(engine)
    service = LineageService(engine)
    consumer = None
    if kafka.bootstrap:
        consumer = LineageConsumer(service, kafka, topic=topic or LINEAGE)
    else:
        logger.warning("no Kafka bootstrap configured: lineage arrives over HTTP only")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if consumer is not None:
            consumer.start()
        try:
            yield
        finally:
            if consumer is not None:
                await run_in_threadpool(consumer.stop)
            engine.dispose()

    app = FastAPI(title="Data Spine lineage", version="1", lifespan=lifespan)
    app.state.service = service
    app.state.consumer = consumer

    async def database_ready() -> None:
        await run_in_threadpool(ping, engine)

    async def consumer_ready() -> None:
        if consumer is not None:
            consumer.check()

    registry = install_common(
        app,
        service=SERVICE,
        rules=ERROR_RULES,
        ready_checks=(database_ready, consumer_ready),
        max_body_bytes=settings.max_body_bytes,
        body_for=_error_body,
    )
    stored_total = Counter("lineage_events_stored_total", "Events stored", ["transport"], registry=registry)
    duplicates_total = Counter("lineage_events_duplicate_total", "Events already stored", registry=registry)
    Gauge("lineage_dead_letters", "Events sent to the DLQ since start", registry=registry).set_function(
        lambda: consumer.dead_letters if consumer else 0
    )
    Gauge("lineage_consumer_stored", "Events stored from Kafka since start", registry=registry).set_function(
        lambda: consumer.stored if consumer else 0
    )

    store = TokenStore(spine.tokens_path)
    producer = role_guard(store, Role.PRODUCER)

    async def body(request: Request) -> Any:
        raw = await request.body()
        return _decode(raw, request.headers.get("content-encoding"), settings.max_body_bytes)

    @app.post("/api/v1/lineage", status_code=201, openapi_extra=EVENT_BODY)
    async def post_event(request: Request, _: Principal = Depends(producer)) -> Response:
        event = await body(request)
        if isinstance(event, list):
            raise BadRequestError(
                "POST /api/v1/lineage takes one event; send arrays to /api/v1/lineage/batch"
            )
        result = await run_in_threadpool(service.ingest, [event])
        stored_total.labels("http").inc(result.stored)
        duplicates_total.inc(result.duplicates)
        return Response(status_code=201)

    @app.post("/api/v1/lineage/batch", openapi_extra=BATCH_BODY)
    async def post_batch(request: Request, _: Principal = Depends(producer)) -> dict[str, int]:
        events = await body(request)
        if isinstance(events, dict) and isinstance(events.get("events"), list):
            events = events["events"]
        if not isinstance(events, list):
            raise BadRequestError("a batch is a JSON array of OpenLineage events")
        if len(events) > MAX_BATCH:
            raise BadRequestError(
                f"a batch holds at most {MAX_BATCH} events", LineageErrorCode.TOO_MANY_EVENTS
            )
        result = await run_in_threadpool(lambda: service.ingest(events, batch=True))
        stored_total.labels("http").inc(result.stored)
        duplicates_total.inc(result.duplicates)
        return {"received": len(events), "stored": result.stored, "duplicates": result.duplicates}

    # Namespaces are often URIs and names paths: clients escape them (``kafka%3A%2F%2Fspine``), the router
    # sees them decoded, so each takes a ``path`` parameter and the most specific route comes first.
    @app.get("/api/v1/namespaces")
    async def list_namespaces() -> dict[str, Any]:
        return {"namespaces": await run_in_threadpool(service.namespaces)}

    @app.get("/api/v1/namespaces/{namespace:path}/datasets/{dataset:path}/versions")
    async def list_versions(
        namespace: str, dataset: str, limit: Limit = 100, offset: Offset = 0
    ) -> dict[str, Any]:
        items, total = await run_in_threadpool(service.dataset_versions, namespace, dataset, limit, offset)
        return {"totalCount": total, "versions": items}

    @app.get("/api/v1/namespaces/{namespace:path}/jobs/{job:path}/runs")
    async def list_runs(namespace: str, job: str, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        items, total = await run_in_threadpool(service.job_runs, namespace, job, limit, offset)
        return {"totalCount": total, "runs": items}

    @app.get("/api/v1/namespaces/{namespace:path}/datasets")
    async def list_datasets(namespace: str, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        items, total = await run_in_threadpool(service.datasets, namespace, limit, offset)
        return {"totalCount": total, "datasets": items}

    @app.get("/api/v1/namespaces/{namespace:path}/jobs")
    async def list_jobs(namespace: str, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        items, total = await run_in_threadpool(service.jobs, namespace, limit, offset)
        return {"totalCount": total, "jobs": items}

    @app.get("/api/v1/namespaces/{namespace:path}/datasets/{dataset:path}")
    async def get_dataset(namespace: str, dataset: str, asOf: str | None = None) -> dict[str, Any]:  # noqa: N803
        when = parse_time(asOf, "asOf")
        return await run_in_threadpool(service.dataset, namespace, dataset, when)

    @app.get("/api/v1/namespaces/{namespace:path}/jobs/{job:path}")
    async def get_job(namespace: str, job: str) -> dict[str, Any]:
        return await run_in_threadpool(service.job, namespace, job)

    @app.get("/api/v1/namespaces/{namespace:path}")
    async def get_namespace(namespace: str) -> dict[str, Any]:
        return await run_in_threadpool(service.namespace, namespace)

    @app.get("/api/v1/jobs/runs/{run_id}")
    async def get_run(run_id: str) -> dict[str, Any]:
        return await run_in_threadpool(service.run, run_id)

    @app.get("/api/v1/lineage")
    async def get_lineage(
        nodeId: Annotated[str | None, Query(max_length=4000)] = None,  # noqa: N803
        depth: Depth = 20,
        tag: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
        asOf: str | None = None,  # noqa: N803
        direction: Direction = Direction.BOTH,
    ) -> dict[str, Any]:
        when = parse_time(asOf, "asOf")
        return await run_in_threadpool(
            lambda: service.lineage(nodeId, depth, tag=tag, as_of=when, direction=direction)
        )

    @app.get("/api/v1/column-lineage")
    async def get_column_lineage(
        nodeId: Name,  # noqa: N803
        depth: Depth = 20,
        withDownstream: bool = False,  # noqa: N803
        asOf: str | None = None,  # noqa: N803
    ) -> dict[str, Any]:
        when = parse_time(asOf, "asOf")
        return await run_in_threadpool(service.column_lineage, nodeId, depth, withDownstream, when)

    @app.get("/api/v1/column-lineage/impact")
    async def get_field_impact(nodeId: Name, asOf: str | None = None) -> dict[str, Any]:  # noqa: N803
        when = parse_time(asOf, "asOf")
        return await run_in_threadpool(service.field_impact, nodeId, when)

    @app.get("/api/v1/search")
    async def search(
        q: Annotated[str, Query(max_length=1000)] = "",
        filter: Literal["DATASET", "JOB"] | None = None,
        sort: Literal["NAME", "UPDATE_AT"] = "NAME",
        limit: Annotated[int, Query(ge=1, le=1000)] = 10,
        namespace: Annotated[str | None, Query(max_length=4000)] = None,
        tag: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
    ) -> dict[str, Any]:
        results = await run_in_threadpool(service.search, q, filter, tag, namespace, limit, sort)
        return {"totalCount": len(results), "results": results}

    @app.get("/api/v1/events/lineage")
    async def list_events(
        limit: Limit = 100,
        offset: Offset = 0,
        sortDirection: Literal["asc", "desc"] = "desc",  # noqa: N803
    ) -> dict[str, Any]:
        items, total = await run_in_threadpool(service.events, limit, offset, sortDirection == "asc")
        return {"totalCount": total, "events": items}

    app.mount("/", StaticFiles(directory=UI_DIR, html=True), name="ui")
    return app


__all__ = ["ERROR_RULES", "SERVICE", "create_app"]
