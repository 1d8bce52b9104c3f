"""Avro schemas: validation with fastavro and a normalized form (full names, primitives collapsed).

The normalized form is what canonical text, compatibility checks and tag extraction walk; it keeps
field order, defaults, aliases, docs and custom attributes such as ``confluent:tags``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from typing import Any

import fastavro

from registry.errors import InvalidSchemaError
from registry.schemas.model import ParsedSchema, SchemaType, TaggedField, canonical_json

logger = logging.getLogger(__name__)

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})
TAGS_KEY = "confluent:tags"
_METADATA_KEYS = frozenset({"doc", TAGS_KEY})
_MAX_ALIAS_PATHS = 64  # alias spellings kept per field: aliases at every level multiply
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Json = Any


class AvroSchema(ParsedSchema):
    """A validated Avro schema: ``schema`` is its normalized form, ``names`` each named type it can use."""

    schema_type = SchemaType.AVRO

    def __init__(self, raw: str, schema: Json, names: Mapping[str, Json]) -> None:
        self.raw = raw
        self.schema = schema
        self.names: dict[str, Json] = dict(names)
        self._canonical = canonical_json(schema)
        self._without_docs = canonical_json(_strip_metadata(schema))

    def canonical(self) -> str:
        return self._canonical

    def canonical_without_docs(self) -> str:
        return self._without_docs

    def resolve(self, node: Json) -> Json:
        """The definition behind a named-type reference, or the node itself."""
        if isinstance(node, str) and node not in PRIMITIVES:
            return self.names[node]
        return node

    def tagged_fields(self) -> list[TaggedField]:
        return [
            TaggedField(paths[0], tuple(field[TAGS_KEY]))
            for paths, field in self._fields(self.schema, ("",), frozenset())
            if field.get(TAGS_KEY)
        ]

    def field_keys(self) -> dict[str, tuple[str, ...]]:
        keys: dict[str, tuple[str, ...]] = {}
        for paths, _ in self._fields(self.schema, ("",), frozenset()):
            keys.setdefault(paths[0], paths)
        return keys

    def _fields(
        self, node: Json, prefixes: tuple[str, ...], seen: frozenset[str]
    ) -> Iterator[tuple[tuple[str, ...], Json]]:
        """Each field in schema order with its paths: its own first, then those its aliases spell."""
        node = self.resolve(node)
        if isinstance(node, list):
            for branch in node:
                yield from self._fields(branch, prefixes, seen)
            return
        if not isinstance(node, dict):
            return
        kind = node["type"]
        if kind == "array":
            yield from self._fields(node["items"], prefixes, seen)
        elif kind == "map":
            yield from self._fields(node["values"], prefixes, seen)
        elif kind in ("record", "error") and node["name"] not in seen:
            inner = seen | {node["name"]}
            for field in node["fields"]:
                names = (field["name"], *field.get("aliases", ()))
                spelled = (f"{p}.{n}" if p else n for p in prefixes for n in names)
                paths = tuple(dict.fromkeys(spelled))[:_MAX_ALIAS_PATHS]
                yield paths, field
                yield from self._fields(field["type"], paths, inner)


def parse_avro(text: str, references: Mapping[str, str] | None = None) -> AvroSchema:
    """Parse and validate Avro schema text; named types of ``references`` may be used by name."""
    names: dict[str, Json] = {}
    fastavro_names: dict[str, Any] = {}
    for ref_name, ref_text in (references or {}).items():
        ref = _load(ref_text, f"reference {ref_name!r}")
        _Normalizer(names, f"reference {ref_name!r}").normalize(ref, "", "")
        _fastavro_check(ref, fastavro_names, f"reference {ref_name!r}")
    document = _load(text, "schema")
    normalized = _Normalizer(names, "schema").normalize(document, "", "")
    _fastavro_check(document, fastavro_names, "schema")
    return AvroSchema(text, normalized, names)


def _load(text: str, what: str) -> Json:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSchemaError(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidSchemaError(f"{what} is not valid JSON: {exc}") from exc


def _fastavro_check(document: Json, named: dict[str, Any], what: str) -> None:
    try:
        fastavro.parse_schema(document, named_schemas=named)
    except Exception as exc:  # fastavro raises many kinds (SchemaParseException, KeyError, ...)
        raise InvalidSchemaError(f"{what} is not a valid Avro schema: {exc}") from exc


class _Normalizer:
    def __init__(self, names: dict[str, Json], what: str) -> None:
        self.names = names
        self.what = what

    def fail(self, path: str, message: str) -> InvalidSchemaError:
        return InvalidSchemaError(f"{self.what} is not a valid Avro schema at {path or '/'}: {message}")

    def normalize(self, node: Json, namespace: str, path: str) -> Json:
        if isinstance(node, str):
            return self._reference(node, namespace, path)
        if isinstance(node, list):
            return self._union(node, namespace, path)
        if isinstance(node, dict):
            return self._complex(node, namespace, path)
        raise self.fail(path, f"expected a type name, union or object, got {json.dumps(node)[:40]}")

    def _reference(self, name: str, namespace: str, path: str) -> Json:
        if name in PRIMITIVES:
            return name
        candidates = [name] if "." in name else ([f"{namespace}.{name}"] if namespace else []) + [name]
        for candidate in candidates:
            if candidate in self.names:
                return candidate
        raise self.fail(path, f"unknown type {name!r}")

    def _union(self, branches: list[Json], namespace: str, path: str) -> Json:
        result = []
        seen: set[str] = set()
        for index, branch in enumerate(branches):
            normalized = self.normalize(branch, namespace, f"{path}/{index}")
            if isinstance(normalized, list):
                raise self.fail(f"{path}/{index}", "unions may not immediately contain other unions")
            key = union_key(normalized)
            if key in seen:
                raise self.fail(f"{path}/{index}", f"union contains {key!r} more than once")
            seen.add(key)
            result.append(normalized)
        return result

    def _complex(self, node: dict[str, Json], namespace: str, path: str) -> Json:
        kind = node.get("type")
        if isinstance(kind, (list, dict)):
            return self.normalize(kind, namespace, f"{path}/type")
        if not isinstance(kind, str):
            raise self.fail(path, "an object schema needs a string 'type'")
        if kind in NAMED:
            return self._named(node, kind, namespace, path)
        if kind == "array":
            return {
                **node,
                "items": self.normalize(self._need(node, "items", path), namespace, f"{path}/items"),
            }
        if kind == "map":
            values = self._need(node, "values", path)
            return {**node, "values": self.normalize(values, namespace, f"{path}/values")}
        if kind in PRIMITIVES:
            return kind if set(node) == {"type"} else dict(node)
        if len(node) == 1:
            return self._reference(kind, namespace, path)
        raise self.fail(path, f"unknown type {kind!r}")

    def _need(self, node: dict[str, Json], key: str, path: str) -> Json:
        if key not in node:
            raise self.fail(path, f"{node.get('type')} needs '{key}'")
        return node[key]

    def _named(self, node: dict[str, Json], kind: str, namespace: str, path: str) -> Json:
        name = node.get("name")
        if not isinstance(name, str) or not name:
            raise self.fail(path, f"{kind} needs a string 'name'")
        own_ns = node.get("namespace", namespace)
        if not isinstance(own_ns, str):
            raise self.fail(path, "'namespace' must be a string")
        full = name if "." in name else (f"{own_ns}.{name}" if own_ns else name)
        if not all(_NAME.match(part) for part in full.split(".")):
            raise self.fail(path, f"{full!r} is not a valid Avro name")
        if full in self.names or full in PRIMITIVES:
            raise self.fail(path, f"type {full!r} is defined more than once")
        inner_ns = full.rpartition(".")[0]
        result: dict[str, Json] = {k: v for k, v in node.items() if k not in ("namespace", "fields")}
        result["name"] = full
        if "aliases" in node:
            result["aliases"] = [_qualify(alias, inner_ns) for alias in _strings(node["aliases"])]
        self.names[full] = result
        if kind in ("record", "error"):
            result["fields"] = self._fields(node.get("fields"), inner_ns, path)
        elif kind == "enum":
            self._check_enum(node, path)
        elif not isinstance(node.get("size"), int) or isinstance(node.get("size"), bool) or node["size"] < 0:
            raise self.fail(path, "fixed needs a non-negative integer 'size'")
        return result

    def _fields(self, fields: Json, namespace: str, path: str) -> list[Json]:
        if not isinstance(fields, list):
            raise self.fail(path, "record needs a 'fields' list")
        result = []
        seen: set[str] = set()
        for index, field in enumerate(fields):
            where = f"{path}/fields/{index}"
            if not isinstance(field, dict) or not isinstance(field.get("name"), str):
                raise self.fail(where, "each field needs a string 'name'")
            if field["name"] in seen:
                raise self.fail(where, f"field {field['name']!r} is declared twice")
            seen.add(field["name"])
            if "type" not in field:
                raise self.fail(where, f"field {field['name']!r} needs a 'type'")
            tags = field.get(TAGS_KEY)
            if tags is not None and _strings(tags) != tags:
                raise self.fail(where, f"'{TAGS_KEY}' must be a list of strings")
            typ = self.normalize(field["type"], namespace, f"{path}/fields/{field['name']}/type")
            if "default" in field and not self._default_fits(typ, field["default"]):
                raise self.fail(
                    f"{path}/fields/{field['name']}/default",
                    f"default {json.dumps(field['default'])[:40]} of field {field['name']!r} does not "
                    "match its type (for a union, its first branch)",
                )
            result.append({**field, "type": typ})
        return result

    def _default_fits(self, node: Json, value: Json) -> bool:
        if isinstance(node, list):
            return bool(node) and self._default_fits(node[0], value)
        if isinstance(node, str) and node not in PRIMITIVES:
            node = self.names.get(node)
            if node is None or (node["type"] in ("record", "error") and "fields" not in node):
                return True  # a record still being defined (recursive type)
        kind = node if isinstance(node, str) else node["type"]
        checks: dict[str, bool] = {
            "null": value is None,
            "boolean": isinstance(value, bool),
            "int": _is_int(value) and -(2**31) <= value < 2**31,
            "long": _is_int(value) and -(2**63) <= value < 2**63,
            "float": _is_number(value),
            "double": _is_number(value),
            "bytes": isinstance(value, str),
            "string": isinstance(value, str),
            "fixed": isinstance(value, str),
            "enum": isinstance(value, str) and value in node.get("symbols", ())
            if isinstance(node, dict)
            else False,
        }
        if kind in checks:
            return checks[kind]
        if kind == "array":
            return isinstance(value, list) and all(self._default_fits(node["items"], v) for v in value)
        if kind == "map":
            return isinstance(value, dict) and all(
                self._default_fits(node["values"], v) for v in value.values()
            )
        if kind in ("record", "error"):
            return isinstance(value, dict) and all(
                self._default_fits(f["type"], value[f["name"]]) if f["name"] in value else "default" in f
                for f in node.get("fields", ())
            )
        return True

    def _check_enum(self, node: dict[str, Json], path: str) -> None:
        symbols = node.get("symbols")
        if not isinstance(symbols, list) or _strings(symbols) != symbols:
            raise self.fail(path, "enum needs a 'symbols' list of strings")
        if len(set(symbols)) != len(symbols):
            raise self.fail(path, "enum symbols must be unique")
        if "default" in node and node["default"] not in symbols:
            raise self.fail(path, f"enum default {node['default']!r} is not one of its symbols")


def _is_int(value: Json) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Json) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def union_key(node: Json) -> str:
    """What makes a union branch distinct: its type, or its full name for named types."""
    if isinstance(node, str):
        return node
    if node["type"] in NAMED:
        return str(node["name"])
    return str(node["type"])


def _qualify(name: str, namespace: str) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _strings(value: Json) -> list[str]:
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, str)]


def _strip_metadata(node: Json) -> Json:
    if isinstance(node, list):
        return [_strip_metadata(item) for item in node]
    if isinstance(node, dict):
        return {key: _strip_metadata(value) for key, value in node.items() if key not in _METADATA_KEYS}
    return node
