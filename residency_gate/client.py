"""Clients of the residency gate's HTTP API.

:class:`GateClient` is what data-moving code uses: it fails closed. When the gate cannot be reached, times
out, answers 5xx or answers something unreadable, every route gets a local DENY decision whose reason starts
with "residency gate unreachable:"; it never raises and never allows on its own. :class:`GateApi` is for
people and tools (the CLI): it raises, with 3 as the exit code when the gate is unreachable.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from residency_gate.errors import ResidencyError
from residency_gate.evaluate import Decision, Outcome, Route, RunRef
from residency_gate.wire import decision_from_dict, route_to_dict, run_to_dict
from spine.errors import AuthError, ForbiddenError, UnavailableError
from spine.httpclient import OwnsHttpClient

logger = logging.getLogger(__name__)

UNREACHABLE = "residency gate unreachable"
CHUNK = 1000
REFUSED = "residency gate refused the request"


class GateUnavailableError(UnavailableError):
    """The residency gate could not be reached or answered 5xx."""


class GateRequestError(ResidencyError):
    """The residency gate refused a request (4xx); ``status`` and ``error_code`` say why."""

    def __init__(self, message: str, *, status: int, error_code: int) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


def denied_locally(route: Route, reason: str) -> Decision:
    """A DENY decision made without the gate (so not in its audit log)."""
    return Decision(
        decision_id=f"local-{uuid.uuid4()}",
        outcome=Outcome.DENY,
        reasons=(reason,),
        redactions=(),
        policy_version="unknown",
        policy_hash="",
        route=route,
        classification=None,
    )


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return response.text[:200]


class GateClient(OwnsHttpClient):
    """Ask the gate about routes; fail closed on any trouble."""

    def __init__(self, url: str, token: str | None, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=_headers(token), timeout=timeout)

    def evaluate(self, route: Route) -> Decision:
        return self.evaluate_batch([route])[0]

    def evaluate_batch(self, routes: Sequence[Route], run: RunRef | None = None) -> list[Decision]:
        """One decision per route, in order; DENY for every route the gate could not answer for.

        With ``run``, the gate also adds the decisions to that lineage run (one event per chunk it is sent).
        """
        decisions: list[Decision] = []
        for start in range(0, len(routes), CHUNK):
            decisions.extend(self._ask(routes[start : start + CHUNK], run))
        return decisions

    def _ask(self, routes: Sequence[Route], run: RunRef | None = None) -> list[Decision]:
        body: dict[str, Any] = {"routes": [route_to_dict(route) for route in routes]}
        if run is not None:
            body["run"] = run_to_dict(run)
        try:
            response = self._http.post("/v1/evaluate", json=body)
        except httpx.HTTPError as exc:
            return self._deny_all(routes, f"{UNREACHABLE}: {type(exc).__name__}: {exc or 'no detail'}")
        if response.status_code >= 500:
            reason = f"{UNREACHABLE}: HTTP {response.status_code}: {_error_message(response)}"
            return self._deny_all(routes, reason)
        if response.status_code >= 400:
            reason = f"{REFUSED}: HTTP {response.status_code}: {_error_message(response)}"
            return self._deny_all(routes, reason)
        try:
            decisions = [decision_from_dict(item) for item in response.json()["decisions"]]
        except (ValueError, KeyError, TypeError, ResidencyError) as exc:
            return self._deny_all(routes, f"{UNREACHABLE}: unreadable answer: {type(exc).__name__}: {exc}")
        if len(decisions) != len(routes):
            reason = f"{UNREACHABLE}: asked about {len(routes)} routes, got {len(decisions)} decisions"
            return self._deny_all(routes, reason)
        return decisions

    def policy(self) -> dict[str, Any] | None:
        """The policy in force (``version``, ``hash``, ``document``), or None when the gate cannot say."""
        try:
            response = self._http.get("/v1/policy")
        except httpx.HTTPError as exc:
            logger.warning("%s: %s", UNREACHABLE, exc or type(exc).__name__)
            return None
        if response.status_code != 200:
            logger.warning("policy not readable: HTTP %d: %s", response.status_code, _error_message(response))
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) and isinstance(body.get("version"), str) else None

    def _deny_all(self, routes: Sequence[Route], reason: str) -> list[Decision]:
        logger.warning("denying %d route(s): %s", len(routes), reason)
        return [denied_locally(route, reason) for route in routes]


class GateApi(OwnsHttpClient):
    """The whole API for tools: raises :class:`GateUnavailableError` (exit 3) or a 4xx's error."""

    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=_headers(token), timeout=timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise GateUnavailableError(f"{UNREACHABLE} at {self.url}: {exc or type(exc).__name__}") from exc
        if response.status_code >= 500:
            message = _error_message(response)
            raise GateUnavailableError(
                f"residency gate at {self.url} failed: HTTP {response.status_code}: {message}"
            )
        if response.status_code >= 400:
            message = _error_message(response)
            code = 0
            try:
                code = int(response.json().get("error_code", 0))
            except (ValueError, AttributeError, TypeError):
                code = 0
            if response.status_code == 401:
                raise AuthError(message)
            if response.status_code == 403:
                raise ForbiddenError(message)
            raise GateRequestError(message, status=response.status_code, error_code=code)
        try:
            return response.json()
        except ValueError as exc:
            raise GateUnavailableError(f"residency gate at {self.url} answered non-JSON") from exc

    def evaluate(self, routes: Sequence[Route]) -> list[Decision]:
        body = self.request("POST", "/v1/evaluate", json={"routes": [route_to_dict(r) for r in routes]})
        return [decision_from_dict(item) for item in body["decisions"]]

    def policy(self) -> dict[str, Any]:
        return dict(self.request("GET", "/v1/policy"))

    def policy_revisions(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/v1/policy/revisions")["revisions"])

    def push_policy(self, text: str, source: str) -> dict[str, Any]:
        return dict(
            self.request(
                "POST",
                "/v1/policy",
                content=text.encode("utf-8"),
                params={"source": source[-200:]},
                headers={"Content-Type": "application/yaml"},
            )
        )

    def audit(self, **params: Any) -> dict[str, Any]:
        query = {k: v for k, v in params.items() if v is not None}
        return dict(self.request("GET", "/v1/audit", params=query))

    def audit_all(self, *, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
        """Every record (optionally in a time window), paging by ``seq``."""
        records: list[dict[str, Any]] = []
        next_seq = 0
        while True:
            page = self.audit(since_seq=next_seq, limit=5000, since=since, until=until)
            records.extend(page["records"])
            if not page["records"] or len(page["records"]) < 5000:
                return records
            next_seq = int(page["next_seq"])

    def checkpoints(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/v1/audit/checkpoints")["checkpoints"])

    def sign_checkpoint(self, *, force: bool = False) -> dict[str, Any]:
        """Ask the gate to sign now: ``{"signed", "checkpoint", "checkpoints"}`` (needs security or admin)."""
        params = {"force": "true"} if force else None
        return dict(self.request("POST", "/v1/audit/checkpoints", params=params))

    def public_key(self) -> dict[str, str]:
        return dict(self.request("GET", "/v1/audit/public-key"))

    def record_findings(self, findings: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
        body = self.request("POST", "/v1/audit/findings", json={"findings": list(findings)})
        return list(body["records"])

    def quarantined(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/v1/quarantine")["quarantined"])

    def quarantine(self, sink: str, reason: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/v1/quarantine/{sink}", json={"reason": reason}))

    def release(self, sink: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"/v1/quarantine/{sink}"))


__all__ = [
    "CHUNK",
    "REFUSED",
    "UNREACHABLE",
    "GateApi",
    "GateClient",
    "GateRequestError",
    "GateUnavailableError",
    "denied_locally",
]
