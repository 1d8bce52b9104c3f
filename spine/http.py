"""What every HTTP service shares: health and metrics routes, one error-handler table, auth, a body limit.

Each service builds its FastAPI app in its own ``create_app()`` and calls :func:`install_common`. Domain
errors are mapped to responses in one table per service (``ErrorRule``s), never by raising
``HTTPException`` in routes. :func:`serve` runs the app after checking the port is free.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spine.auth import Principal, Role, TokenStore
from spine.broker import port_is_free
from spine.errors import AuthError, DegradedError, ForbiddenError, PortInUseError, SpineError
from spine.logging import configure_logging
from spine.settings import (
    HttpServiceSettings,
    KafkaSettings,
    SpineSettings,
    check_environment,
    load_settings,
)

logger = logging.getLogger(__name__)

ReadyCheck = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """Map an exception type to an HTTP status and a stable numeric error code."""

    exc_type: type[BaseException]
    status: int
    error_code: int


class BodyTooLargeError(SpineError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"request body exceeds {max_bytes} bytes")
        self.max_bytes = max_bytes


BODY_TOO_LARGE = ErrorRule(BodyTooLargeError, 413, 41301)
# Rules every service has, whatever its own table says.
COMMON_RULES: tuple[ErrorRule, ...] = (BODY_TOO_LARGE,)


ErrorBody = Callable[[int, Exception], dict[str, object]]


def error_body(error_code: int, message: str) -> dict[str, object]:
    return {"error_code": error_code, "message": message}


def _plain_body(error_code: int, exc: Exception) -> dict[str, object]:
    return error_body(error_code, str(exc))


def install_common(
    app: FastAPI,
    *,
    service: str,
    rules: Sequence[ErrorRule],
    ready_checks: Sequence[ReadyCheck] = (),
    validation_error_code: int = 42200,
    field_error_codes: Mapping[str, int] | None = None,
    not_found_code: int = 40400,
    media_type: str = "application/json",
    max_body_bytes: int = 1024 * 1024,
    body_for: ErrorBody = _plain_body,
) -> CollectorRegistry:
    """Add /health/live, /health/ready, /metrics, the error table and a body-size limit to ``app``.

    ``body_for`` builds the error document of a mapped exception (a service may add fields beside
    ``error_code`` and ``message``). ``field_error_codes`` gives a request body's top-level field its own
    code when it fails validation (the registry's malformed ``ruleSet`` is 42210, as Confluent's).
    """
    by_field = dict(field_error_codes or {})
    registry = CollectorRegistry()
    requests = Counter(
        "spine_http_requests_total", "HTTP requests", ["service", "method", "status"], registry=registry
    )
    latency = Histogram(
        "spine_http_request_seconds",
        "HTTP request latency",
        ["service", "method"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )
    ordered = sorted((*COMMON_RULES, *rules), key=lambda r: len(r.exc_type.__mro__), reverse=True)

    def send(status: int, body: dict[str, object]) -> JSONResponse:
        message = body.get("message")
        if isinstance(message, str):  # lone surrogates from bad input must not break the answer
            body["message"] = message.encode("utf-8", "backslashreplace").decode("utf-8")
        return JSONResponse(body, status_code=status, media_type=media_type)

    def respond(status: int, code: int, message: str) -> JSONResponse:
        return send(status, error_body(code, message))

    def mapped(exc: Exception) -> tuple[ErrorRule, JSONResponse] | None:
        for rule in ordered:
            if isinstance(exc, rule.exc_type):
                return rule, send(rule.status, body_for(rule.error_code, exc))
        return None

    async def on_error(request: Request, exc: Exception) -> Response:
        answer = mapped(exc)
        if answer is None:
            logger.exception("unhandled error on %s %s", request.method, request.url.path)
            return respond(500, 50001, "internal server error")
        rule, response = answer
        if rule.status >= 500:
            logger.error("%s %s failed: %s", request.method, request.url.path, exc)
        return response

    def too_large(exc: BodyTooLargeError) -> JSONResponse:
        answer = mapped(exc)
        assert answer is not None  # COMMON_RULES maps it
        return answer[1]

    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        loc = tuple(first.get("loc", ()))
        where = ".".join(str(p) for p in loc)
        code = (
            by_field.get(str(loc[1]), validation_error_code)
            if loc[:1] == ("body",) and len(loc) > 1
            else None
        )
        message = f"{where}: {first.get('msg')}".lstrip(": ")
        return respond(422, validation_error_code if code is None else code, message)

    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        code = not_found_code if exc.status_code == 404 else exc.status_code * 100
        return respond(exc.status_code, code, str(exc.detail))

    # Per type as well as the catch-all: Starlette runs an ``Exception`` handler in its outermost middleware
    # and re-raises, which would log every 4xx as a crash.
    for rule in ordered:
        if issubclass(rule.exc_type, Exception):
            app.add_exception_handler(rule.exc_type, on_error)
    app.add_exception_handler(Exception, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, on_http)  # type: ignore[arg-type]

    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, refuse=too_large)
    app.add_middleware(Observe, service=service, requests=requests, latency=latency)  # outside: sees 413s

    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @app.get("/health/ready", include_in_schema=False)
    async def ready() -> Response:
        problems: list[str] = []
        degraded: list[dict[str, object]] = []
        for check in ready_checks:
            try:
                await check()
            except DegradedError as exc:
                problems.append(str(exc))
                degraded.append(exc.detail)
            except Exception as exc:
                problems.append(str(exc) or type(exc).__name__)
        if problems:
            status = "degraded" if len(degraded) == len(problems) else "unavailable"
            body: dict[str, object] = {"status": status, "service": service, "problems": problems}
            if degraded:
                body["degraded"] = degraded
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok", "service": service})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return registry


class Observe:
    """Count requests by method and status and time them, as a plain ASGI middleware (no extra task)."""

    def __init__(self, app: ASGIApp, *, service: str, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.service = service
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            method = scope["method"]
            self.latency.labels(self.service, method).observe(time.perf_counter() - start)
            self.requests.labels(self.service, method, str(status)).inc()


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with the error table's answer to :class:`BodyTooLargeError`.

    A declared Content-Length is refused before the app runs. A chunked body is counted as it is read: once
    it passes the limit, whatever the app makes of the failed read (FastAPI turns it into a 400, a route
    reading ``request.body()`` lets it escape) is replaced by the same 413.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, refuse: Callable[[BodyTooLargeError], Response]
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self.refuse(BodyTooLargeError(self.max_bytes))(scope, receive, send)
                return
        seen = 0
        refused: BodyTooLargeError | None = None
        started = False

        async def limited() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = BodyTooLargeError(self.max_bytes)
                    raise refused
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if refused is not None and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, guarded)
        except Exception:
            if refused is None or started:
                raise
        if refused is not None and not started:
            await self.refuse(refused)(scope, receive, send)


AUTH_RULES = (ErrorRule(ForbiddenError, 403, 40301), ErrorRule(AuthError, 401, 40101))


def role_guard(store: TokenStore, *roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency that admits a bearer token with one of ``roles`` (admin always).

    Async so it runs on the event loop: a hash and a stat of the token file cost less than a thread hop.
    """

    async def guard(request: Request) -> Principal:
        return store.authorize(request.headers.get("authorization"), *roles)

    return guard


def serve(app: FastAPI, *, host: str, port: int, service: str) -> None:
    """Run ``app`` with uvicorn after making sure the port is free (naming port and service if not)."""
    import uvicorn

    if not port_is_free(host, port):
        raise PortInUseError(port, service)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")


S = TypeVar("S", bound=HttpServiceSettings)


def run_service(service: str, settings_type: type[S], create_app: Callable[..., FastAPI]) -> int:
    """The ``main()`` of ``python -m <service>``: load settings, build the app, serve it; a bad setting or
    a busy port is one line on stderr and its exit code, never a traceback."""
    try:
        check_environment()
        spine = load_settings(SpineSettings)
        configure_logging(spine.log_level)
        settings = load_settings(settings_type)
        kafka = load_settings(KafkaSettings)
        app = create_app(settings, spine=spine, kafka=kafka)
        serve(app, host=settings.host, port=settings.port or spine.port(service), service=service)
    except SpineError as exc:
        print(f"{service}: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


__all__ = [
    "AUTH_RULES",
    "BODY_TOO_LARGE",
    "COMMON_RULES",
    "BodyTooLargeError",
    "ErrorBody",
    "ErrorRule",
    "ReadyCheck",
    "error_body",
    "install_common",
    "role_guard",
    "run_service",
    "serve",
]
