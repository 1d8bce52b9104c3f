"""Field classification tags from the schema registry, resolved into a route's fields before evaluation.

A route may name a registry subject version (``schema``); the registry answers that version's tagged fields
at ``GET /schemas/{subject}/versions/{version}/tags``. This module reads that answer (``RegistryTags``),
checks it (``parse_tags_answer``), merges it with fields the route lists itself, the registry's tags being a
floor the route can only add to (``merge_fields``), makes routes of datasets the matrix ties to a subject
name it (``link_schemas``), and turns a batch of routes into evaluable routes or denial reasons
(``resolve_routes``).
It fails closed: any trouble reading the tags becomes a reason to deny, naming the subject and the problem.

A numbered version is not forever: like Confluent's, the registry numbers a subject from 1 again after a
permanent delete (Confluent computes the next version from the versions it still holds, and clients that
recreate a subject expect version 1), so version 1 may later be another schema, with more PII tags. The
gate therefore trusts a cached numbered version only for ``version_ttl`` seconds (default 60,
``SPINE_RESIDENCY_REGISTRY_VERSION_TTL``) and ``latest`` for a shorter TTL. A route that states the schema
id its records carry (``schema.id``) is never answered from an entry with another id: the registry is
asked again, and if the version still has another id the route is denied, naming both ids. Routes
resolved through the registry are pinned to the version and id used, so the audit log shows which schema
decided. A reused number is thus wrong for at most the TTL, and never for a route stating its id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeGuard

from residency_gate.errors import ResidencyError
from residency_gate.evaluate import MAX_SCHEMA_VERSION, FieldTag, Route, SchemaRef
from residency_gate.policy.model import Policy
from spine.httpclient import Closeable
from spine.registry_client import RegistryClient, RegistryClientError, RegistryUnavailableError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
DEFAULT_LATEST_TTL = 2.0
DEFAULT_VERSION_TTL = 60.0
CACHE_SIZE = 4096


class TagLookupError(ResidencyError):
    """A schema's field tags could not be read: registry unreachable, not found, or a bad answer."""

    def __init__(self, ref: SchemaRef, problem: str) -> None:
        self.ref = ref
        self.problem = problem
        super().__init__(unavailable_reason(ref, problem))


def unavailable_reason(ref: SchemaRef, problem: str) -> str:
    """The denial reason for a route whose schema tags could not be read."""
    return f"field tags of schema {ref.subject} version {ref.version} unavailable: {problem}"


@dataclass(frozen=True, slots=True)
class SchemaTags:
    """The tagged fields of one registered subject version (``version`` is always a number)."""

    subject: str
    version: int
    id: int
    fields: tuple[FieldTag, ...]


def _int_in(value: Any, low: int, high: int) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def parse_tags_answer(data: Any, ref: SchemaRef) -> SchemaTags:
    """Check the registry's answer for ``ref`` and build :class:`SchemaTags`; raise ``TagLookupError``."""
    if not isinstance(data, Mapping):
        raise TagLookupError(ref, "bad registry answer: not a JSON object")
    if data.get("subject") != ref.subject:
        raise TagLookupError(ref, f"bad registry answer: it is about subject {data.get('subject')!r}")
    version = data.get("version")
    if not _int_in(version, 1, MAX_SCHEMA_VERSION):
        raise TagLookupError(ref, f"bad registry answer: version {version!r} is not a version number")
    if ref.version != "latest" and version != ref.version:
        raise TagLookupError(ref, f"bad registry answer: it is about version {version}")
    schema_id = data.get("id")
    if not _int_in(schema_id, 0, 2**63 - 1):
        raise TagLookupError(ref, f"bad registry answer: id {schema_id!r} is not a schema id")
    if ref.id is not None and schema_id != ref.id:
        raise TagLookupError(
            ref,
            f"version {version} is schema id {schema_id}, not {ref.id} as the route states "
            "(the subject was deleted for good and its version number reused, or the id is wrong)",
        )
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list):
        raise TagLookupError(ref, "bad registry answer: 'fields' is not a list")
    fields: dict[str, tuple[str, ...]] = {}
    for index, item in enumerate(raw_fields):
        path = item.get("path") if isinstance(item, Mapping) else None
        tags = item.get("tags") if isinstance(item, Mapping) else None
        if not isinstance(path, str) or not path:
            raise TagLookupError(ref, f"bad registry answer: fields[{index}].path is not a non-empty string")
        if not isinstance(tags, list) or not all(isinstance(tag, str) and tag for tag in tags):
            raise TagLookupError(ref, f"bad registry answer: fields[{index}].tags is not a list of tags")
        known = fields.get(path, ())
        fields[path] = known + tuple(tag for tag in tags if tag not in known)
    return SchemaTags(ref.subject, version, schema_id, tuple(FieldTag(p, t) for p, t in fields.items()))


def merge_fields(from_schema: Iterable[FieldTag], explicit: Iterable[FieldTag]) -> tuple[FieldTag, ...]:
    """The schema's tagged fields in schema order, each with the tags the route adds for it; explicit fields
    the schema does not tag follow in their own order. The registry's tags are a floor: a route may add
    tags to a field, never remove or replace them."""
    extra = {item.name: item for item in explicit}
    merged: list[FieldTag] = []
    for item in from_schema:
        added = extra.pop(item.name, None)
        if added is None:
            merged.append(item)
        else:
            merged.append(FieldTag(item.name, item.tags + tuple(t for t in added.tags if t not in item.tags)))
    merged.extend(extra.values())
    return tuple(merged)


def link_schemas(routes: Sequence[Route], policy: Policy) -> list[Route]:
    """Routes of datasets the matrix ties to a registry subject, made to name it (``latest``) if they do
    not name a schema; evaluation denies a linked dataset's route that names another subject."""
    linked: list[Route] = []
    for route in routes:
        dataset = policy.datasets.get(route.dataset)
        if route.schema is None and dataset is not None and dataset.subject is not None:
            route = replace(route, schema=SchemaRef(dataset.subject))
        linked.append(route)
    return linked


def apply_schema(route: Route, tags: SchemaTags) -> Route:
    """``route`` with the schema's tagged fields merged in, its schema pinned to the version and id used."""
    return replace(
        route,
        fields=merge_fields(tags.fields, route.fields),
        schema=SchemaRef(tags.subject, tags.version, tags.id),
    )


Lookup = Callable[[SchemaRef], SchemaTags]


@dataclass(frozen=True, slots=True)
class Resolved:
    """A route ready to evaluate, or (``denial`` set) the route as submitted and why it must be denied."""

    route: Route
    denial: str | None = None


def resolve_routes(routes: Sequence[Route], lookup: Lookup | None) -> list[Resolved]:
    """Resolve each route's schema, looking each distinct (subject, version) up once; fail closed."""
    answers: dict[SchemaRef, SchemaTags | TagLookupError] = {}
    resolved: list[Resolved] = []
    for route in routes:
        ref = route.schema
        if ref is None:
            resolved.append(Resolved(route))
            continue
        if ref not in answers:
            answers[ref] = _ask(lookup, ref)
        answer = answers[ref]
        if isinstance(answer, TagLookupError):
            resolved.append(Resolved(route, str(answer)))
        else:
            resolved.append(Resolved(apply_schema(route, answer)))
    return resolved


def _ask(lookup: Lookup | None, ref: SchemaRef) -> SchemaTags | TagLookupError:
    if lookup is None:
        return TagLookupError(ref, "no schema registry is configured")
    try:
        return lookup(ref)
    except TagLookupError as exc:
        logger.warning("%s", exc)
        return exc


class RegistryTags(Closeable):
    """Reads tagged fields from the registry at ``url`` through the spine's registry client; thread-safe;
    raises only ``TagLookupError``.

    Numbered versions are trusted for ``version_ttl`` seconds and ``latest`` for ``latest_ttl``; an entry
    whose id differs from the one a reference states is read again (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        latest_ttl: float = DEFAULT_LATEST_TTL,
        version_ttl: float = DEFAULT_VERSION_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url.rstrip("/")
        self._registry = RegistryClient(self.url, timeout=timeout)
        self._latest_ttl = latest_ttl
        self._version_ttl = version_ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._versions: OrderedDict[tuple[str, int], tuple[float, SchemaTags]] = OrderedDict()
        self._latest: dict[str, tuple[float, SchemaTags]] = {}

    def lookup(self, ref: SchemaRef) -> SchemaTags:
        cached = self._cached(ref)
        if cached is not None:
            return cached
        tags = parse_tags_answer(self._fetch(ref), ref)
        now = self._clock()
        with self._lock:
            key = (tags.subject, tags.version)
            known = self._versions.pop(key, None)
            if known is not None and known[1].id != tags.id:
                logger.warning(
                    "schema %s version %d is now schema id %d (was %d): its number was reused",
                    tags.subject,
                    tags.version,
                    tags.id,
                    known[1].id,
                )
            self._versions[key] = (now + self._version_ttl, tags)
            while len(self._versions) > CACHE_SIZE:
                self._versions.popitem(last=False)
            if ref.version == "latest":
                self._latest[ref.subject] = (now + self._latest_ttl, tags)
        return tags

    def _cached(self, ref: SchemaRef) -> SchemaTags | None:
        now = self._clock()
        with self._lock:
            if ref.version == "latest":
                entry = self._latest.get(ref.subject)
            else:
                entry = self._versions.get((ref.subject, ref.version))
            if entry is None or entry[0] <= now or (ref.id is not None and entry[1].id != ref.id):
                return None
            if ref.version != "latest":
                self._versions.move_to_end((ref.subject, ref.version))
            return entry[1]

    def _fetch(self, ref: SchemaRef) -> Any:
        try:
            return self._registry.field_tags(ref.subject, ref.version)
        except RegistryUnavailableError as exc:
            raise TagLookupError(ref, exc.problem) from exc
        except RegistryClientError as exc:
            if exc.status == 404:
                raise TagLookupError(ref, f"not found in the registry ({exc.problem})") from exc
            if exc.status < 400:
                raise TagLookupError(ref, exc.problem) from exc
            raise TagLookupError(ref, f"registry answered HTTP {exc.status}: {exc.problem}") from exc

    def close(self) -> None:
        self._registry.close()


__all__ = [
    "RegistryTags",
    "Resolved",
    "SchemaTags",
    "TagLookupError",
    "apply_schema",
    "link_schemas",
    "merge_fields",
    "parse_tags_answer",
    "resolve_routes",
    "unavailable_reason",
]
