"""The one typed client of the spine's schema registry: subjects, versions (with semver, governed topic and
field tags), a version's tagged fields, and schemas by id, plus confluent-kafka's own
``SchemaRegistryClient`` for its serializers.

Confluent's API answers through confluent-kafka's client; the spine API (semver, topic, tags) through httpx
with the same bearer token. Registry errors become :class:`RegistryClientError` (``error_code`` the
registry's) or :class:`UnavailableError`. The spine API needs only httpx (the residency gate reads tags
with it); the Confluent API and Protobuf classes need ``confluent-kafka[schemaregistry]`` (the ``governed``
extra), imported when first used.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from spine.errors import SpineError, UnavailableError
from spine.httpclient import OwnsHttpClient
from spine.registry_codes import SchemaErrorCode

if TYPE_CHECKING:
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.error import SchemaRegistryError
    from google.protobuf import message

SUBJECT_NOT_FOUND = SchemaErrorCode.SUBJECT_NOT_FOUND
VERSION_NOT_FOUND = SchemaErrorCode.VERSION_NOT_FOUND
SCHEMA_NOT_FOUND = SchemaErrorCode.SCHEMA_NOT_FOUND


class RegistryClientError(SpineError):
    """The registry refused a request; ``error_code`` is its (Confluent-compatible) code, ``problem`` the
    message without the request it was about."""

    def __init__(self, message: str, *, error_code: int = 0, status: int = 0, problem: str = "") -> None:
        super().__init__(message)
        self.error_code = error_code
        self.status = status
        self.problem = problem or message


class RegistryUnavailableError(UnavailableError):
    """The registry could not be reached or answered 5xx; ``problem`` as in :class:`RegistryClientError`."""

    def __init__(self, message: str, *, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem or message


@dataclass(frozen=True, slots=True)
class SubjectVersion:
    """One registered version of a subject as the spine API describes it."""

    subject: str
    version: int
    schema_id: int
    schema_type: str  # AVRO, PROTOBUF or JSON
    schema: str
    semver: str
    topic: str
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    deprecated: bool = False

    @property
    def major(self) -> int:
        return int(self.semver.split(".")[0])


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    """The registry's answer to a publish: the change class (NONE, PATCH, MINOR, MAJOR) and the version."""

    subject: str
    schema_id: int | None
    version: int | None
    semver: str
    change: str
    reasons: tuple[str, ...]
    topic: str
    dry_run: bool


def confluent_config(url: str, token: str | None) -> dict[str, Any]:
    """The ``SchemaRegistryClient`` configuration for the spine's registry (as the README shows)."""
    conf: dict[str, Any] = {"url": url.rstrip("/")}
    if token:
        conf.update(
            {
                "bearer.auth.credentials.source": "STATIC_TOKEN",
                "bearer.auth.token": token,
                "bearer.auth.logical.cluster": "spine",
            }
        )
    return conf


def translate(exc: SchemaRegistryError, context: str) -> SpineError:
    if exc.http_status_code >= 500 or exc.http_status_code < 0:
        return RegistryUnavailableError(f"{context}: registry failed: {exc.error_message}")
    return RegistryClientError(
        f"{context}: {exc.error_message}", error_code=exc.error_code, status=exc.http_status_code
    )


class RegistryClient(OwnsHttpClient):
    """Typed reads of the registry; ``confluent`` is the client to give confluent-kafka's serializers."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._confluent: SchemaRegistryClient | None = None
        self._lock = threading.Lock()
        self._confluent_lock = threading.Lock()
        self._subjects_of_id: dict[int, frozenset[str]] = {}
        self._proto_classes: dict[int, type[message.Message]] = {}

    @property
    def confluent(self) -> SchemaRegistryClient:
        """confluent-kafka's client for the same registry and token (made when first asked for)."""
        with self._confluent_lock:
            if self._confluent is None:
                from confluent_kafka.schema_registry import SchemaRegistryClient

                self._confluent = SchemaRegistryClient(confluent_config(self.url, self._token))
            return self._confluent

    def close(self) -> None:
        super().close()
        if self._confluent is not None:
            self._confluent.close()

    # --- spine API ---------------------------------------------------------------------------------------

    def latest(self, subject: str) -> SubjectVersion:
        return _subject_version(self._get(f"/schemas/{quote(subject, safe='')}", f"subject {subject}"))

    def version(self, subject: str, version: int) -> SubjectVersion:
        path = f"/schemas/{quote(subject, safe='')}/versions/{version}"
        return _subject_version(self._get(path, f"subject {subject} version {version}"))

    def versions(self, subject: str) -> list[SubjectVersion]:
        """Every live version of ``subject``, oldest first."""
        rows = self._get(f"/schemas/{quote(subject, safe='')}/versions", f"subject {subject}")
        return [self.version(subject, int(row["version"])) for row in rows]

    def field_tags(self, subject: str, version: int | str) -> Any:
        """The registry's answer for a version's tagged fields (``version`` a number or ``latest``), as
        JSON: ``{"subject", "version", "id", "fields": [{"path", "tags"}]}``. The caller checks it."""
        path = f"/schemas/{quote(subject, safe='')}/versions/{version}/tags"
        return self._get(path, f"field tags of subject {subject} version {version}")

    def latest_in_major(self, subject: str, major: int) -> SubjectVersion:
        found = [v for v in self.versions(subject) if v.major == major]
        if not found:
            raise RegistryClientError(
                f"subject {subject} has no version in major {major}", error_code=VERSION_NOT_FOUND
            )
        return found[-1]

    def publish(
        self,
        subject: str,
        schema: str,
        *,
        schema_type: str = "AVRO",
        version: str | None = None,
        dry_run: bool = False,
    ) -> PublishOutcome:
        """Publish through the registry's semver gate (it classifies the change when ``version`` is None);
        ``dry_run`` classifies without registering."""
        payload: dict[str, Any] = {"schema": schema, "schemaType": schema_type, "dryRun": dry_run}
        if version is not None:
            payload["version"] = version
        what = f"publish subject {subject}"
        body = self._request("POST", f"/schemas/{quote(subject, safe='')}", what, payload)
        return PublishOutcome(
            subject=str(body["subject"]),
            schema_id=None if body.get("id") is None else int(body["id"]),
            version=None if body.get("version") is None else int(body["version"]),
            semver=str(body["semver"]),
            change=str(body["change"]),
            reasons=tuple(str(r) for r in body.get("reasons") or ()),
            topic=str(body.get("topic") or ""),
            dry_run=bool(body.get("dryRun", dry_run)),
        )

    # --- Confluent API -----------------------------------------------------------------------------------

    def subjects(self) -> list[str]:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return list(self.confluent.get_subjects())
        except SchemaRegistryError as exc:
            raise translate(exc, "list subjects") from exc
        except httpx.HTTPError as exc:
            raise RegistryUnavailableError(f"registry unreachable at {self.url}: {exc}") from exc

    def subjects_of(self, schema_id: int) -> frozenset[str]:
        """The subjects that registered schema ``schema_id`` (cached: an id never changes its schema)."""
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        known = self._subjects_of_id.get(schema_id)
        if known is not None:
            return known
        try:
            found = frozenset(self.confluent.get_subjects_by_schema_id(schema_id))
        except SchemaRegistryError as exc:
            raise translate(exc, f"schema id {schema_id}") from exc
        except httpx.HTTPError as exc:
            raise RegistryUnavailableError(f"registry unreachable at {self.url}: {exc}") from exc
        self._subjects_of_id[schema_id] = found
        return found

    def protobuf_class(self, schema_id: int) -> type[message.Message]:
        """The generated class of the first message of Protobuf schema ``schema_id`` (from its descriptor)."""
        from google.protobuf import descriptor_pb2, descriptor_pool
        from google.protobuf.message_factory import GetMessageClass

        with self._lock:
            cls = self._proto_classes.get(schema_id)
            if cls is not None:
                return cls
            # Not through confluent's client: its schema cache is keyed by id alone, whatever the format.
            body = self._get(f"/schemas/ids/{schema_id}?format=serialized", f"schema id {schema_id}")
            if body.get("references"):
                raise RegistryClientError(f"schema id {schema_id}: Protobuf references are not supported yet")
            proto = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(str(body["schema"])))
            pool = descriptor_pool.DescriptorPool()
            pool.Add(proto)
            if not proto.message_type:
                raise RegistryClientError(f"schema id {schema_id}: the .proto file defines no message")
            name = (
                f"{proto.package}.{proto.message_type[0].name}"
                if proto.package
                else proto.message_type[0].name
            )
            cls = GetMessageClass(pool.FindMessageTypeByName(name))
            self._proto_classes[schema_id] = cls
            return cls

    # --- plumbing ----------------------------------------------------------------------------------------

    def _get(self, path: str, what: str) -> Any:
        return self._request("GET", path, what)

    def _request(self, method: str, path: str, what: str, body: Any = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            problem = f"registry unreachable at {self.url}: {type(exc).__name__}: {exc or 'no detail'}"
            raise RegistryUnavailableError(problem) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        text = body.get("message") if isinstance(body, dict) else None
        detail = str(text)[:200] if isinstance(text, str) else (response.text[:200] or response.reason_phrase)
        if response.status_code >= 500:
            problem = f"registry failed with HTTP {response.status_code}: {detail}"
            raise RegistryUnavailableError(f"{what}: {problem}", problem=problem)
        if response.status_code >= 400:
            code = body.get("error_code", 0) if isinstance(body, dict) else 0
            raise RegistryClientError(
                f"{what}: {detail}",
                error_code=code if isinstance(code, int) else 0,
                status=response.status_code,
                problem=detail,
            )
        if body is None:
            problem = "bad registry answer: not JSON"
            raise RegistryClientError(f"{what}: {problem}", status=response.status_code, problem=problem)
        return body


def _subject_version(body: dict[str, Any]) -> SubjectVersion:
    return SubjectVersion(
        subject=str(body["subject"]),
        version=int(body["version"]),
        schema_id=int(body["id"]),
        schema_type=str(body.get("schemaType") or "AVRO"),
        schema=str(body["schema"]),
        semver=str(body["semver"]),
        topic=str(body["topic"]),
        tags=tuple((str(t["path"]), tuple(str(x) for x in t["tags"])) for t in body.get("tags", [])),
        deprecated=bool(body.get("deprecated", False)),
    )


__all__ = [
    "SCHEMA_NOT_FOUND",
    "SUBJECT_NOT_FOUND",
    "VERSION_NOT_FOUND",
    "PublishOutcome",
    "RegistryClient",
    "RegistryClientError",
    "RegistryUnavailableError",
    "SubjectVersion",
    "confluent_config",
    "translate",
]
