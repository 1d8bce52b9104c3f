"""Check an OpenLineage event against the spec (``lineage/spec``, shipped with the package), offline.

Pure: :func:`validate_event` takes parsed JSON and returns the problems, each with the JSON path where it
is (``$.run.runId``), sorted by path; an empty list means the event is valid. The event is checked against
the spec's ``RunEvent``, ``DatasetEvent`` or ``JobEvent`` (chosen by its shape, so errors name the real
problem rather than "matches none of three"); each facet is then checked against its own facet schema,
found by the file named in its ``_schemaURL`` (any version) or else by its standard key. The spine's own
facets (``spine_residency``, ``spine_governance``) are checked against their schemas in ``schemas/lineage``;
facets nobody here defines need only the base facet fields.

Validation is the most expensive step of ingest, so each event is first checked by jsonschema-rs (compiled
validators for the same schemas, the same three formats, no other format and no network); only an event it
rejects goes through the Python ``jsonschema`` validators, which name each problem and its path. The two
are kept in agreement by the tests, which run both over every event they build.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from lineage.errors import LineageErrorCode, Problem

SPEC_DIR = Path(__file__).resolve().parent / "spec"
# The spine's own facets (spine_residency, spine_governance), shipped with the event schemas.
SPINE_FACETS_DIR = Path(str(files("schemas").joinpath("lineage")))
EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
MAX_PROBLEMS = 20

# Where facets sit in an event, and which kind of facet schema applies there.
_FACET_KINDS = ("RunFacet", "JobFacet", "InputDatasetFacet", "OutputDatasetFacet", "DatasetFacet")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_formats = FormatChecker(formats=())


def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper() and " " not in value:
        return False
    parsed = datetime.fromisoformat(value.replace("z", "Z"))
    return parsed.tzinfo is not None


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


_formats.checks("uuid", raises=ValueError)(_is_uuid)
_formats.checks("date-time", raises=ValueError)(_is_date_time)
_formats.checks("uri")(_is_uri)

_CHECKS = {"uuid": _is_uuid, "date-time": _is_date_time, "uri": _is_uri}


def _as_predicate(check: Any) -> Any:
    def predicate(value: str) -> bool:
        try:
            return bool(check(value))
        except ValueError:
            return False

    return predicate


def _always(value: str) -> bool:
    return True


def _formats_used(schema: Any) -> set[str]:
    if isinstance(schema, list):
        return set().union(*map(_formats_used, schema)) if schema else set()
    if not isinstance(schema, dict):
        return set()
    found = {schema["format"]} if isinstance(schema.get("format"), str) else set()
    return found.union(*map(_formats_used, schema.values()))


def _offline(uri: str) -> Any:
    raise ValueError(f"{uri} is not shipped with the spec; lineage validation never fetches schemas")


class _Spec:
    """The spec's schemas, loaded once: the event validators and one validator per facet schema."""

    def __init__(self) -> None:
        core = json.loads((SPEC_DIR / "OpenLineage.json").read_text(encoding="utf-8"))
        self.core_id: str = core["$id"]
        resources = [(self.core_id, Resource.from_contents(core))]
        contents_by_id: dict[str, Any] = {self.core_id: core}
        self.facet_ids: dict[str, str] = {}  # file stem -> $id
        self.by_key: dict[tuple[str, str], str] = {}  # (facet kind, key) -> file stem
        for path in sorted([*(SPEC_DIR / "facets").glob("*.json"), *SPINE_FACETS_DIR.glob("*.json")]):
            contents = json.loads(path.read_text(encoding="utf-8"))
            if path.stem not in contents.get("$defs", {}):
                continue  # not a facet definition (e.g. the LineageFacet envelope)
            resources.append((contents["$id"], Resource.from_contents(contents)))
            contents_by_id[contents["$id"]] = contents
            self.facet_ids[path.stem] = contents["$id"]
            kind = next((k for k in _FACET_KINDS if path.stem.endswith(k)), None)
            for key in contents.get("properties", {}):
                if kind is not None:
                    self.by_key.setdefault((kind, key), path.stem)
        self.registry: Registry[Any] = Registry().with_resources(resources)
        # The core schema is not recursive: its local $refs are inlined, which saves resolving each one
        # on every event (validation is the most expensive step of ingest).
        self.events = {
            name: self._validator(_inline(core["$defs"][name], core["$defs"]))
            for name in ("RunEvent", "DatasetEvent", "JobEvent")
        }
        self.facets = {
            stem: self._validator({"$ref": f"{schema_id}#/$defs/{stem}"})
            for stem, schema_id in self.facet_ids.items()
        }
        # The fast first pass: the same schemas compiled by jsonschema-rs, checking exactly the formats
        # the Python validators check (every other format the schemas name is accepted, as there).
        formats = {name: _always for name in _formats_used(list(contents_by_id.values()))}
        formats.update({name: _as_predicate(check) for name, check in _CHECKS.items()})
        fast_registry = jsonschema_rs.Registry(list(contents_by_id.items()), retriever=_offline)

        def fast(schema: dict[str, Any]) -> jsonschema_rs.Validator:
            return jsonschema_rs.Draft202012Validator(
                schema, formats=formats, validate_formats=True, registry=fast_registry, retriever=_offline
            )

        self.fast_events = {name: fast(_inline(core["$defs"][name], core["$defs"])) for name in self.events}
        self.fast_facets = {
            stem: fast({"$ref": f"{schema_id}#/$defs/{stem}"}) for stem, schema_id in self.facet_ids.items()
        }

    def _validator(self, schema: dict[str, Any]) -> Draft202012Validator:
        return Draft202012Validator(schema, registry=self.registry, format_checker=_formats)

    def facet_schema(self, kind: str, key: str, facet: Any) -> str | None:
        url = facet.get("_schemaURL") if isinstance(facet, dict) else None
        if isinstance(url, str):
            stem = urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".json")
            if stem in self.facets:
                return stem
        return self.by_key.get((kind, key))

    def is_valid(self, event: dict[str, Any]) -> bool:
        """The fast verdict: True when the event and each of its known facets pass their schemas."""
        if not self.fast_events[event_kind(event)].is_valid(event):
            return False
        for _path, kind, key, facet in _facets(event):
            stem = self.facet_schema(kind, key, facet)
            if stem is not None and not self.fast_facets[stem].is_valid(facet):
                return False
        return True


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``#/$defs/NAME`` reference replaced by its definition (non-recursive defs)."""
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _inline(defs[ref.removeprefix("#/$defs/")], defs)
    return {key: _inline(value, defs) for key, value in schema.items()}


@cache
def _spec() -> _Spec:
    return _Spec()


def json_path(parts: Any) -> str:
    """``$.inputs[0].facets.schema`` from a sequence of keys and indices."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            out += f".{part}"
        else:
            out += "[" + json.dumps(str(part), ensure_ascii=False) + "]"
    return out


def event_kind(event: Mapping[str, Any]) -> str:
    """Which spec definition the event is meant to be, judged by its shape."""
    if "run" in event or "eventType" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    if "job" in event:
        return "JobEvent"
    return "RunEvent"


def validate_event(event: Any) -> list[Problem]:
    """Every problem with ``event`` (at most :data:`MAX_PROBLEMS`), sorted by JSON path."""
    if not isinstance(event, dict):
        return [Problem("$", LineageErrorCode.INVALID_EVENT, "an OpenLineage event must be a JSON object")]
    spec = _spec()
    if spec.is_valid(event):
        return []
    return full_problems(event)


def full_problems(event: dict[str, Any]) -> list[Problem]:
    """Every problem the Python validators find, with paths (:func:`validate_event` without its fast
    first pass; the tests compare the two)."""
    spec = _spec()
    problems = [p for e in spec.events[event_kind(event)].iter_errors(event) for p in _problems(e, ())]
    for path, kind, key, facet in _facets(event):
        stem = spec.facet_schema(kind, key, facet)
        if stem is None:
            continue
        for error in spec.facets[stem].iter_errors(facet):
            for found in _problems(error, (*path, key)):
                if found.code is not LineageErrorCode.MISSING_FIELD or not found.path.endswith(
                    ("._producer", "._schemaURL")
                ):
                    found = Problem(found.path, LineageErrorCode.INVALID_FACET, f"{stem}: {found.message}")
                problems.append(found)
    unique = {(p.path, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.path, p.message))[:MAX_PROBLEMS]


def _facets(event: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str, str, Any]]:
    """(path of the facets object, facet kind, key, facet) for every facet in the event."""

    def each(path: tuple[str | int, ...], kind: str, facets: Any) -> Iterator[Any]:
        if isinstance(facets, dict):
            for key, facet in facets.items():
                yield path, kind, key, facet

    run, job = event.get("run"), event.get("job")
    if isinstance(run, dict):
        yield from each(("run", "facets"), "RunFacet", run.get("facets"))
    if isinstance(job, dict):
        yield from each(("job", "facets"), "JobFacet", job.get("facets"))
    for side, extra, kind in (
        ("inputs", "inputFacets", "InputDatasetFacet"),
        ("outputs", "outputFacets", "OutputDatasetFacet"),
    ):
        datasets = event.get(side)
        for index, dataset in enumerate(datasets if isinstance(datasets, list) else []):
            if isinstance(dataset, dict):
                yield from each((side, index, "facets"), "DatasetFacet", dataset.get("facets"))
                yield from each((side, index, extra), kind, dataset.get(extra))
    static = event.get("dataset")
    if isinstance(static, dict) and "run" not in event:
        yield from each(("dataset", "facets"), "DatasetFacet", static.get("facets"))


def _problems(error: ValidationError, prefix: tuple[str | int, ...]) -> list[Problem]:
    while error.context and error.validator in ("anyOf", "oneOf"):
        error = best_match(error.context)
    path = [*prefix, *error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        return [
            Problem(json_path([*path, key]), LineageErrorCode.MISSING_FIELD, f"'{key}' is required")
            for key in missing
        ]
    return [_problem(error, path)]


def _problem(error: ValidationError, path: list[str | int]) -> Problem:
    if path == ["eventType"] and error.validator == "enum":
        return Problem(
            "$.eventType",
            LineageErrorCode.UNKNOWN_EVENT_TYPE,
            f"unknown eventType {_short(error.instance)}; expected one of {', '.join(EVENT_TYPES)}",
        )
    if error.validator == "not":
        return Problem(json_path(path), LineageErrorCode.INVALID_EVENT, "a dataset event has no run or job")
    return Problem(json_path(path), LineageErrorCode.INVALID_EVENT, _short_message(error))


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_message(error: ValidationError) -> str:
    if error.validator == "format":
        return f"{_short(error.instance)} is not a valid {error.validator_value}"
    if error.validator == "type":
        return f"{_short(error.instance)} is not of type {error.validator_value!r}"
    message = str(error.message)
    return message if len(message) <= 200 else message[:199] + "…"


__all__ = ["EVENT_TYPES", "SPEC_DIR", "event_kind", "full_problems", "json_path", "validate_event"]
