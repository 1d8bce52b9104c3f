"""JSON Schema documents: meta-schema validation with ``jsonschema``, keyword-aware normalization and tags.

Only schema positions are walked (``properties``, ``items``, ``allOf``...), so a property that happens to be
named ``description`` is never mistaken for a keyword.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators

from registry.errors import InvalidSchemaError
from registry.schemas.model import ParsedSchema, SchemaType, TaggedField, canonical_json

logger = logging.getLogger(__name__)

TAGS_KEY = "confluent:tags"
METADATA_KEYWORDS = frozenset({"description", "title", "$comment", "examples", TAGS_KEY})
SCHEMA_MAP_KEYWORDS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"}
)
SCHEMA_LIST_KEYWORDS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
SCHEMA_KEYWORDS = frozenset(
    {
        "items",
        "additionalItems",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)

Json = Any


class JsonSchema(ParsedSchema):
    """A JSON Schema valid against its meta-schema; ``references`` maps ``$ref`` names to documents."""

    schema_type = SchemaType.JSON

    def __init__(self, raw: str, document: Json, references: Mapping[str, Json]) -> None:
        self.raw = raw
        self.document = document
        self.references: dict[str, Json] = dict(references)
        self._canonical = canonical_json(document)
        self._without_docs = canonical_json(map_schemas(document, _drop_metadata))

    def canonical(self) -> str:
        return self._canonical

    def canonical_without_docs(self) -> str:
        return self._without_docs

    def resolve(self, node: Json, seen: frozenset[str] = frozenset()) -> Json:
        """Follow ``$ref`` (local pointers and reference names) until a schema without one; cycles stop."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
            ref = node["$ref"]
            seen = seen | {ref}
            target = self._lookup(ref)
            if target is None:
                return node
            node = target
        return node

    def _lookup(self, ref: str) -> Json:
        base, _, pointer = ref.partition("#")
        if base:
            document = self.references.get(base)
            if document is None:
                return None
        else:
            document = self.document
        for part in [p for p in pointer.split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(document, dict) and part in document:
                document = document[part]
            elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
                document = document[int(part)]
            else:
                return None
        return document

    def tagged_fields(self) -> list[TaggedField]:
        return [
            TaggedField(path, tags) for path, tags in self._properties(self.document, "", frozenset()) if tags
        ]

    def field_keys(self) -> dict[str, tuple[str, ...]]:
        return {path: (path,) for path, _ in self._properties(self.document, "", frozenset())}

    def _properties(
        self, node: Json, prefix: str, seen: frozenset[str]
    ) -> Iterator[tuple[str, tuple[str, ...]]]:
        """Each property (path, tags) in document order, nested ones after their parent."""
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            if node["$ref"] in seen:
                return
            seen = seen | {node["$ref"]}
        node = self.resolve(node)
        if not isinstance(node, dict):
            return
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                path = f"{prefix}.{name}" if prefix else name
                target = self.resolve(sub)
                tags = (sub.get(TAGS_KEY) if isinstance(sub, dict) else None) or (
                    target.get(TAGS_KEY) if isinstance(target, dict) else None
                )
                yield path, tuple(str(tag) for tag in tags) if isinstance(tags, list) else ()
                yield from self._properties(sub, path, seen)
        items = node.get("items")
        if isinstance(items, dict):
            yield from self._properties(items, prefix, seen)
        for keyword in ("allOf", "anyOf", "oneOf"):
            branches = node.get(keyword)
            if isinstance(branches, list):
                for branch in branches:
                    yield from self._properties(branch, prefix, seen)


def parse_json_schema(text: str, references: Mapping[str, str] | None = None) -> JsonSchema:
    """Parse JSON Schema text, check it against its meta-schema, and keep the referenced documents by name."""
    refs = {name: _load(ref_text, f"reference {name!r}") for name, ref_text in (references or {}).items()}
    document = _load(text, "schema")
    for name, ref in refs.items():
        _check(ref, f"reference {name!r}")
    _check(document, "schema")
    return JsonSchema(text, document, refs)


def _load(text: str, what: str) -> Json:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSchemaError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidSchemaError(f"{what} is not valid JSON: {exc}") from exc


def _check(document: Json, what: str) -> None:
    if not isinstance(document, (dict, bool)):
        raise InvalidSchemaError(
            f"{what} is not a valid JSON Schema: a schema must be an object or a boolean"
        )
    if isinstance(document, dict) and not isinstance(document.get("$schema", ""), str):
        raise InvalidSchemaError(f"{what} is not a valid JSON Schema at /$schema: it must be a URI string")
    try:
        validator = jsonschema.validators.validator_for(document, default=jsonschema.Draft7Validator)
        validator.check_schema(document)
    except jsonschema.exceptions.SchemaError as exc:
        where = "/" + "/".join(str(part) for part in exc.absolute_path)
        raise InvalidSchemaError(f"{what} is not a valid JSON Schema at {where}: {exc.message}") from exc
    except Exception as exc:  # unknown $schema URIs, recursion in odd documents
        raise InvalidSchemaError(f"{what} is not a valid JSON Schema: {exc}") from exc


def map_schemas(node: Json, transform: Callable[[dict[str, Json]], dict[str, Json]]) -> Json:
    """Apply ``transform`` to every schema object, walking only the keywords that hold schemas."""
    if not isinstance(node, dict):
        return node
    result: dict[str, Json] = {}
    for key, value in transform(node).items():
        if key in SCHEMA_MAP_KEYWORDS and isinstance(value, dict):
            result[key] = {name: map_schemas(sub, transform) for name, sub in value.items()}
        elif key in SCHEMA_LIST_KEYWORDS | SCHEMA_KEYWORDS and isinstance(value, list):
            result[key] = [map_schemas(sub, transform) for sub in value]
        elif key in SCHEMA_KEYWORDS:
            result[key] = map_schemas(value, transform)
        else:
            result[key] = value
    return result


def _drop_metadata(node: dict[str, Json]) -> dict[str, Json]:
    return {key: value for key, value in node.items() if key not in METADATA_KEYWORDS}
