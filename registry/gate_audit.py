"""The registry's one call to the residency gate: record a declassification before it is committed.

The caller's own bearer token is sent, so the gate checks the role and names the actor itself. Every
failure is refused, never ignored: no gate configured or reachable is ``AuditUnavailableError`` (503), a
gate that says no is ``DeclassificationRefusedError`` (403). Nothing of the gate's server code is imported.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from registry.classification import Declassification
from registry.errors import AuditUnavailableError, DeclassificationRefusedError
from spine.httpclient import OwnsHttpClient

logger = logging.getLogger(__name__)

PATH = "/v1/audit/declassifications"


@dataclass(frozen=True, slots=True)
class DeclassificationNotice:
    """A version about to be committed and the fields it declassifies."""

    subject: str
    version: int
    semver: str
    schema_id: int
    fields: Sequence[Declassification]

    def as_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "version": self.version,
            "semver": self.semver,
            "schema_id": self.schema_id,
            "fields": [f.as_dict() for f in self.fields],
        }


class GateAudit(OwnsHttpClient):
    """Posts declassification notices to the residency gate at ``url``."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def record(self, notice: DeclassificationNotice, authorization: str) -> None:
        what = f"declassification of {notice.subject!r} version {notice.version} not published"
        try:
            response = self._http.post(PATH, json=notice.as_dict(), headers={"Authorization": authorization})
        except httpx.HTTPError as exc:
            raise AuditUnavailableError(
                f"{what}: the residency gate at {self.url} is unreachable ({type(exc).__name__})"
            ) from exc
        if response.status_code == 201:
            return
        detail = _message(response)
        if 400 <= response.status_code < 500:
            raise DeclassificationRefusedError(
                f"{what}: the residency gate refused to audit it ({response.status_code}: {detail})"
            )
        raise AuditUnavailableError(
            f"{what}: the residency gate failed to audit it ({response.status_code}: {detail})"
        )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:300] if message else response.reason_phrase


__all__ = ["DeclassificationNotice", "GateAudit"]
