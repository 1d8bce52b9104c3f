"""Every HTTP service refuses a body over its limit with 413 and one error code, chunked or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from spine.auth import Role
from spine.http import BODY_TOO_LARGE
from tests.integration.registry.conftest import build_app, make_tokens, serve_in_thread
from tests.integration.residency_gate.gate import start_gate

pytestmark = pytest.mark.integration

LIMIT = 1024 * 1024
OVER = b'{"schema": "' + b"x" * (LIMIT + 1024) + b'"}'


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture(params=["registry", "residency-gate"])
def endpoint(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A running service and the headers of a writer, yielding the URL of a route that reads a body."""
    if request.param == "registry":
        tokens = make_tokens(tmp_path)
        url, server, thread = serve_in_thread(build_app(tmp_path))
        try:
            yield f"{url}/subjects/big-value/versions", tokens.header("producer")
        finally:
            server.should_exit = True
            thread.join(10)
    else:
        gate = start_gate(tmp_path / "home")
        try:
            yield f"{gate.url}/v1/evaluate", gate.headers(Role.ADMIN)
        finally:
            gate.stop()


def post(url: str, headers: dict[str, str], content: bytes | Iterator[bytes]) -> httpx.Response:
    headers = {**headers, "Content-Type": "application/json"}
    return httpx.post(url, content=content, headers=headers, timeout=30.0)


def assert_refused_as_too_large(response: httpx.Response) -> None:
    assert response.status_code == BODY_TOO_LARGE.status == 413, response.text
    body = response.json()
    assert body["error_code"] == BODY_TOO_LARGE.error_code
    assert str(LIMIT) in body["message"]


def test_a_content_length_over_the_limit_is_413(endpoint: tuple[str, dict[str, str]]) -> None:
    url, headers = endpoint
    assert_refused_as_too_large(post(url, headers, OVER))


def test_a_chunked_body_over_the_limit_is_413(endpoint: tuple[str, dict[str, str]]) -> None:
    url, headers = endpoint
    response = post(url, headers, chunks(OVER))
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert_refused_as_too_large(response)


def test_a_chunked_body_under_the_limit_reaches_the_route(endpoint: tuple[str, dict[str, str]]) -> None:
    url, headers = endpoint
    response = post(url, headers, chunks(b'{"not": "a valid request"}', size=4))
    assert 400 <= response.status_code < 500
    assert response.status_code != 413
