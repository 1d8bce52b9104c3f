"""JSON Schema compatibility: the reader must accept every document the writer accepts.

Reported: types narrowed (``integer`` fits ``number``), enum/const narrowed, bounds tightened (minimum,
maxLength, minItems, ...), pattern or multipleOf added or changed, required properties added, the content
model closed (``additionalProperties: false``) or a property the writer allows no longer allowed, and the
same rules inside properties, items, ``$ref`` targets, ``allOf`` (merged) and ``anyOf``/``oneOf`` branches.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from registry.compatibility.model import Incompatibility
from registry.schemas.jsonschema import JsonSchema
from registry.schemas.model import ParsedSchema

logger = logging.getLogger(__name__)

Json = Any
ALL_TYPES = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})
LOWER_BOUNDS = {"minimum": "number", "exclusiveMinimum": "number", "minLength": "string", "minItems": "array"}
LOWER_BOUNDS |= {"minProperties": "object"}
UPPER_BOUNDS = {"maximum": "number", "exclusiveMaximum": "number", "maxLength": "string", "maxItems": "array"}
UPPER_BOUNDS |= {"maxProperties": "object"}
_BRANCHES = ("anyOf", "oneOf")


def can_read(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why some document valid under ``writer`` is not valid under ``reader``."""
    assert isinstance(reader, JsonSchema)
    assert isinstance(writer, JsonSchema)
    return _Checker(reader, writer).check(reader.document, writer.document, "")


def can_read_node(
    reader: JsonSchema, writer: JsonSchema, reader_node: Json, writer_node: Json, path: str
) -> list[Incompatibility]:
    """Like :func:`can_read` for one node of each schema (used to class individual changes)."""
    return _Checker(reader, writer).check(reader_node, writer_node, path)


class _Checker:
    def __init__(self, reader: JsonSchema, writer: JsonSchema) -> None:
        self.reader = reader
        self.writer = writer
        self.visiting: set[tuple[int, int]] = set()

    def _prepare(self, schema: JsonSchema, node: Json) -> Json:
        node = schema.resolve(node)
        if node is True or node == {}:
            return {}
        if node is False or not isinstance(node, dict):
            return node
        parts = node.get("allOf")
        if isinstance(parts, list):
            merged = {key: value for key, value in node.items() if key != "allOf"}
            for part in parts:
                part = self._prepare(schema, part)
                if isinstance(part, dict):
                    merged = _merge(merged, part)
            return merged
        return node

    def check(self, reader: Json, writer: Json, path: str) -> list[Incompatibility]:
        reader = self._prepare(self.reader, reader)
        writer = self._prepare(self.writer, writer)
        key = (id(reader), id(writer))
        if key in self.visiting or writer is False or reader == {}:
            return []
        where = path or "/"
        if reader is False:
            return [
                Incompatibility(
                    where, "the reader accepts nothing but the writer accepts documents", "closed"
                )
            ]
        if not isinstance(reader, dict) or not isinstance(writer, dict):
            return []
        self.visiting.add(key)
        try:
            return self._check_objects(reader, writer, path)
        finally:
            self.visiting.discard(key)

    def _check_objects(
        self, reader: dict[str, Json], writer: dict[str, Json], path: str
    ) -> list[Incompatibility]:
        for keyword in _BRANCHES:
            if isinstance(writer.get(keyword), list):
                base = {k: v for k, v in writer.items() if k != keyword}
                found: list[Incompatibility] = []
                for branch in writer[keyword]:
                    branch = self._prepare(self.writer, branch)
                    merged = _merge(base, branch) if isinstance(branch, dict) else branch
                    found.extend(self.check(reader, merged, path))
                return found
        for keyword in _BRANCHES:
            if isinstance(reader.get(keyword), list):
                base = {k: v for k, v in reader.items() if k != keyword}
                options = []
                for branch in reader[keyword]:
                    branch = self._prepare(self.reader, branch)
                    options.append(_merge(base, branch) if isinstance(branch, dict) else branch)
                if any(not self.check(option, writer, path) for option in options):
                    return []
                return [
                    Incompatibility(
                        f"{path}/{keyword}",
                        f"the writer's schema matches none of the reader's {keyword} branches",
                        "union-narrowed",
                    )
                ]
        writer_types = _types(writer)
        return [
            *_type_rules(reader, writer, writer_types, path),
            *_value_rules(reader, writer, writer_types, path),
            *self._object_rules(reader, writer, writer_types, path),
            *self._array_rules(reader, writer, writer_types, path),
        ]

    def _object_rules(
        self, reader: dict[str, Json], writer: dict[str, Json], writer_types: frozenset[str], path: str
    ) -> list[Incompatibility]:
        if "object" not in writer_types:
            return []
        found: list[Incompatibility] = []
        w_required = set(_list(writer.get("required")))
        for name in _list(reader.get("required")):
            if name not in w_required:
                found.append(
                    Incompatibility(
                        f"{path}/required/{name}",
                        f"property {name!r} is required by the reader but optional for the writer",
                        "required-added",
                    )
                )
        r_props, w_props = _dict(reader.get("properties")), _dict(writer.get("properties"))
        r_extra, w_extra = reader.get("additionalProperties", {}), writer.get("additionalProperties", {})
        for name, w_prop in w_props.items():
            prop_path = f"{path}/properties/{name}"
            patterns = _matching_patterns(reader.get("patternProperties"), name)
            if name in r_props:
                found.extend(self.check(r_props[name], w_prop, prop_path))
            elif patterns:
                for pattern_schema in patterns:
                    found.extend(self.check(pattern_schema, w_prop, prop_path))
            elif r_extra is False:
                found.append(
                    Incompatibility(
                        prop_path,
                        f"property {name!r} the writer allows is not allowed by the reader's closed "
                        "content model",
                        "property-removed",
                    )
                )
            elif isinstance(r_extra, dict):
                found.extend(self.check(r_extra, w_prop, prop_path))
        for name, r_prop in r_props.items():
            if name not in w_props and isinstance(w_extra, dict) and w_extra:
                found.extend(self.check(r_prop, w_extra, f"{path}/properties/{name}"))
        if r_extra is False and w_extra is not False:
            found.append(
                Incompatibility(
                    f"{path}/additionalProperties",
                    "the reader closes the content model (additionalProperties false) but the writer allows "
                    "other properties",
                    "additional-properties-closed",
                )
            )
        elif isinstance(r_extra, dict) and r_extra and w_extra is not False:
            found.extend(self.check(r_extra, w_extra, f"{path}/additionalProperties"))
        return found

    def _array_rules(
        self, reader: dict[str, Json], writer: dict[str, Json], writer_types: frozenset[str], path: str
    ) -> list[Incompatibility]:
        r_items = reader.get("items")
        if "array" not in writer_types or not isinstance(r_items, (dict, bool)):
            return []
        w_items = writer.get("items", {})
        if not isinstance(w_items, (dict, bool)):
            return []
        return self.check(r_items, w_items, f"{path}/items")


def _type_rules(
    reader: dict[str, Json], writer: dict[str, Json], writer_types: frozenset[str], path: str
) -> list[Incompatibility]:
    if "type" not in reader:
        return []
    reader_types = _types(reader)
    missing = sorted(t for t in writer_types if t not in reader_types and not _fits(t, reader_types))
    if not missing:
        return []
    return [
        Incompatibility(
            f"{path}/type",
            f"the writer allows {', '.join(missing)} but the reader accepts only "
            f"{', '.join(sorted(reader_types))}",
            "type-narrowed",
        )
    ]


def _fits(kind: str, reader_types: frozenset[str]) -> bool:
    return kind == "integer" and "number" in reader_types


def _value_rules(
    reader: dict[str, Json], writer: dict[str, Json], writer_types: frozenset[str], path: str
) -> list[Incompatibility]:
    found: list[Incompatibility] = []
    r_values, w_values = _allowed_values(reader), _allowed_values(writer)
    if r_values is not None:
        extra = None if w_values is None else [v for v in w_values if v not in r_values]
        if extra is None or extra:
            what = "any value" if extra is None else ", ".join(json.dumps(v) for v in extra)
            found.append(
                Incompatibility(f"{path}/enum", f"the reader's enum does not accept {what}", "enum-narrowed")
            )
    for keyword, kind in LOWER_BOUNDS.items():
        if keyword in reader and _applies(kind, writer_types) and _tighter(reader, writer, keyword, max):
            found.append(_bound(path, keyword, reader, writer))
    for keyword, kind in UPPER_BOUNDS.items():
        if keyword in reader and _applies(kind, writer_types) and _tighter(reader, writer, keyword, min):
            found.append(_bound(path, keyword, reader, writer))
    if (
        "pattern" in reader
        and _applies("string", writer_types)
        and reader["pattern"] != writer.get("pattern")
    ):
        found.append(
            Incompatibility(
                f"{path}/pattern", "the reader's pattern differs from the writer's", "pattern-changed"
            )
        )
    r_multiple, w_multiple = reader.get("multipleOf"), writer.get("multipleOf")
    if isinstance(r_multiple, (int, float)) and _number(r_multiple) and _applies("number", writer_types):
        divides = (
            isinstance(w_multiple, (int, float)) and _number(w_multiple) and not (w_multiple / r_multiple) % 1
        )
        if not divides:
            found.append(_bound(path, "multipleOf", reader, writer))
    return found


def _applies(kind: str, writer_types: frozenset[str]) -> bool:
    return kind in writer_types or (kind == "number" and "integer" in writer_types)


def _tighter(reader: dict[str, Json], writer: dict[str, Json], keyword: str, pick: Any) -> bool:
    r_value, w_value = reader[keyword], writer.get(keyword)
    if not _number(r_value):
        return False
    if not _number(w_value):
        return True
    return bool(pick(r_value, w_value) == r_value and r_value != w_value)


def _bound(path: str, keyword: str, reader: dict[str, Json], writer: dict[str, Json]) -> Incompatibility:
    before = json.dumps(writer.get(keyword)) if keyword in writer else "none"
    return Incompatibility(
        f"{path}/{keyword}",
        f"{keyword} is {json.dumps(reader[keyword])} in the reader but {before} in the writer",
        "bound-tightened",
    )


def _allowed_values(node: dict[str, Json]) -> list[Json] | None:
    if "const" in node:
        return [node["const"]]
    values = node.get("enum")
    return values if isinstance(values, list) else None


def _types(node: dict[str, Json]) -> frozenset[str]:
    kind = node.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(k for k in kind if isinstance(k, str))
    return ALL_TYPES


def _merge(base: dict[str, Json], extra: dict[str, Json]) -> dict[str, Json]:
    merged = dict(base)
    for key, value in extra.items():
        if key == "required":
            merged[key] = list(dict.fromkeys([*_list(merged.get(key)), *_list(value)]))
        elif key == "properties" and isinstance(merged.get(key), dict) and isinstance(value, dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _matching_patterns(patterns: Json, name: str) -> list[Json]:
    """Schemas of the ``patternProperties`` whose regular expression matches ``name``."""
    matched = []
    for pattern, schema in _dict(patterns).items():
        try:
            if re.search(pattern, name):
                matched.append(schema)
        except re.error:
            continue
    return matched


def _number(value: Json) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value != 0


def _list(value: Json) -> list[Json]:
    return value if isinstance(value, list) else []


def _dict(value: Json) -> dict[str, Json]:
    return value if isinstance(value, dict) else {}
