"""The deserializers' and producers' read path, answered before routing: a schema by id and a subject's
version (or ``latest``), from :class:`registry.read_cache.ReadCache`.

Only the plain forms are answered here (``/schemas/ids/{id}`` with no query or only ``?subject=``;
``/subjects/{s}/versions/{v}`` with no query). A miss reads the database in a worker thread and answers the
same way; anything not found, malformed or failing goes on to the app, whose routes and error table answer
it, so this path never invents an error of its own.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from registry.api.confluent import MAX_VERSION, encode_json
from registry.api.errors import MEDIA_TYPE
from registry.errors import StorageError
from registry.read_cache import ReadCache

_BY_ID = "/schemas/ids/"
_SUBJECTS = "/subjects/"
_VERSIONS = "/versions/"
_MEDIA_TYPE_BYTES = MEDIA_TYPE.encode("latin-1")
_NOT_HERE = -2


def version_document(subject: str, version: int, schema_id: int, schema_body: bytes) -> bytes:
    """The body of a subject version: its key fields, then the fields of the schema's body by id."""
    head = b'{"subject":%s,"version":%d,"id":%d' % (encode_json(subject), version, schema_id)
    return head + (b"," + schema_body[1:] if len(schema_body) > 2 else b"}")


def _schema_id(path: str, query: bytes) -> int | None:
    if not path.startswith(_BY_ID):
        return None
    if query and not (query.startswith(b"subject=") and b"&" not in query):
        return None
    digits = path[len(_BY_ID) :]
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 10) or int(digits) > MAX_VERSION:
        return None
    return int(digits)


def _subject_version(path: str, query: bytes) -> tuple[str, int | None] | None:
    """(subject, version or None for the latest) of a plain version read; else None."""
    if query or not path.startswith(_SUBJECTS):
        return None
    subject, found, version = path[len(_SUBJECTS) :].rpartition(_VERSIONS)
    if not found or not subject or "/" in subject or len(subject) > 255:
        return None
    if version in ("latest", "-1"):
        return subject, None
    if not (version.isascii() and version.isdigit() and len(version) <= 10):
        return None
    number = int(version)
    return (subject, number) if 1 <= number <= MAX_VERSION else None


class FastReads:
    def __init__(self, app: ASGIApp, *, cache: ReadCache) -> None:
        self.app = app
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            query: bytes = scope.get("query_string", b"")
            body: bytes | None = None
            schema_id = _schema_id(path, query)
            if schema_id is not None:
                body = await self._body(schema_id)
            else:
                wanted = _subject_version(path, query)
                if wanted is not None:
                    body = await self._version(*wanted)
            if body is not None:
                headers = [(b"content-length", b"%d" % len(body)), (b"content-type", _MEDIA_TYPE_BYTES)]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _body(self, schema_id: int) -> bytes | None:
        body = self.cache.body(schema_id)
        if body is None:
            try:
                body = await run_in_threadpool(self.cache.load_body, schema_id)
            except StorageError:
                return None  # the app answers it through the error table
        return body

    async def _version(self, subject: str, version: int | None) -> bytes | None:
        found = self.cache.version_id(subject, version)
        if found is None:
            try:
                found = await run_in_threadpool(self.cache.load_version, subject, version)
            except StorageError:
                return None
            if found is None:
                return None
        number, schema_id = found
        body = await self._body(schema_id)
        return None if body is None else version_document(subject, number, schema_id, body)
