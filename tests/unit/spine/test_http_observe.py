"""The metrics middleware counts every HTTP request under its status, failures included, and times it."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import Message, Receive, Scope, Send

from spine.http import Observe


def metrics() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    requests = Counter("t_requests_total", "requests", ["service", "method", "status"], registry=registry)
    latency = Histogram("t_request_seconds", "latency", ["service", "method"], registry=registry)
    return registry, requests, latency


async def answer_204(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def crash(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("boom")


def call(app: Observe, method: str) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http", "method": method, "path": "/", "headers": []}, receive, send))
    return sent


def count(registry: CollectorRegistry, method: str, status: str) -> float:
    labels = {"service": "svc", "method": method, "status": status}
    return registry.get_sample_value("t_requests_total", labels) or 0.0


def test_a_response_is_counted_under_its_status_and_timed() -> None:
    registry, requests, latency = metrics()
    sent = call(Observe(answer_204, service="svc", requests=requests, latency=latency), "DELETE")
    assert sent[0]["status"] == 204
    assert count(registry, "DELETE", "204") == 1.0
    assert registry.get_sample_value("t_request_seconds_count", {"service": "svc", "method": "DELETE"}) == 1.0


def test_an_exception_is_counted_as_500_and_still_raised() -> None:
    registry, requests, latency = metrics()
    with pytest.raises(RuntimeError):
        call(Observe(crash, service="svc", requests=requests, latency=latency), "GET")
    assert count(registry, "GET", "500") == 1.0


def test_a_non_http_scope_passes_through_uncounted() -> None:
    registry, requests, latency = metrics()
    seen: list[str] = []

    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    async def run() -> None:
        async def receive() -> Message:
            return {"type": "lifespan.startup"}

        async def send(message: Message) -> None:
            return None

        await Observe(lifespan, service="svc", requests=requests, latency=latency)(
            {"type": "lifespan"}, receive, send
        )

    asyncio.run(run())
    assert seen == ["lifespan"]
    assert registry.get_sample_value("t_request_seconds_count", {"service": "svc", "method": "GET"}) is None
