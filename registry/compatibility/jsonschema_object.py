"""Confluent's object rules for JSON Schema (``ObjectSchemaDiff``): required, properties, content models.

A content model is *open* when any property is allowed (no ``additionalProperties`` schema or ``false``,
no ``patternProperties``, ``unevaluatedProperties`` absent or true), *partially open* when a schema covers
other properties, *closed* otherwise. Under Confluent's STRICT policy a property may be added only to a
model that was not open, and removed only from one that is still open.
"""

from __future__ import annotations

import re

from registry.compatibility.jsonschema_rules import (
    Change,
    Differ,
    Difference,
    Json,
    Node,
    at,
    compatible,
    limit,
)

D = Difference


def _dict(value: Json) -> dict[str, Json]:
    return value if isinstance(value, dict) else {}


def _required(node: dict[str, Json]) -> set[str]:
    value = node.get("required")
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _permits_additional(node: dict[str, Json]) -> bool:
    return node.get("additionalProperties") is not False


def _additional_schema(node: dict[str, Json]) -> Json:
    value = node.get("additionalProperties")
    return value if isinstance(value, dict) else None


def _unevaluated(node: dict[str, Json]) -> Json:
    return node.get("unevaluatedProperties")


def is_open(node: dict[str, Json]) -> bool:
    """Confluent's ``isOpenContentModel``."""
    if (
        not _permits_additional(node)
        or _additional_schema(node) is not None
        or _dict(node.get("patternProperties"))
    ):
        return False
    return _unevaluated(node) in (None, True, {})


def _partial(node: dict[str, Json], name: str) -> Json:
    """The schema a partially open content model gives property ``name``, or None."""
    for pattern, schema in _dict(node.get("patternProperties")).items():
        try:
            if re.search(pattern, name):
                return schema
        except re.error:
            continue
    if _additional_schema(node) is not None:
        return _additional_schema(node)
    if _permits_additional(node):
        unevaluated = _unevaluated(node)
        if unevaluated not in (None, True, False, {}):
            return unevaluated
    return None


def _has_default(diff: Differ, node: Json, new: bool) -> bool:
    loaded = diff.load_new(node) if new else diff.load_old(node)
    return loaded is not None and "default" in loaded.node


def compare_object(diff: Differ, original: Node, update: Node) -> list[Change]:
    o, u = original.node, update.node
    return [
        *_compare_required(diff, o, u),
        *_compare_properties(diff, o, u),
        *_compare_additional(diff, o, u),
        *_compare_unevaluated(diff, o, u),
        *limit("maxProperties", o, u, "MAX_PROPERTIES"),
        *limit("minProperties", o, u, "MIN_PROPERTIES"),
    ]


def _compare_required(diff: Differ, o: dict[str, Json], u: dict[str, Json]) -> list[Change]:
    found = []
    before, after = _required(o), _required(u)
    new_properties = _dict(u.get("properties"))
    for name in _dict(o.get("properties")):
        if name not in new_properties:
            continue
        if name in before and name not in after:
            found.append(Change(D.REQUIRED_ATTRIBUTE_REMOVED, f"/required/{name}"))
        elif name not in before and name in after:
            kind = (
                D.REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED
                if _has_default(diff, new_properties[name], True)
                else D.REQUIRED_ATTRIBUTE_ADDED
            )
            found.append(Change(kind, f"/required/{name}"))
    return found


def _compare_properties(diff: Differ, o: dict[str, Json], u: dict[str, Json]) -> list[Change]:
    found: list[Change] = []
    before, after = _dict(o.get("properties")), _dict(u.get("properties"))
    for name in sorted(before.keys() | after.keys()):
        where = f"/properties/{name}"
        if name not in after:
            found.extend(_removed(diff, before[name], u, name, where))
        elif name not in before:
            found.extend(_added(diff, o, u, after[name], name, where))
        else:
            found.extend(at(where, diff.compare(diff.load_old(before[name]), diff.load_new(after[name]))))
    return found


def _removed(diff: Differ, schema: Json, update: dict[str, Json], name: str, where: str) -> list[Change]:
    if is_open(update):
        return [Change(D.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, where)]
    partial = _partial(update, name)
    if partial is not None:
        changes = at(where, diff.compare(diff.load_old(schema), diff.load_new(partial)))
        kind = (
            D.PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            if compatible(changes)
            else D.PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        )
        return [*changes, Change(kind, where)]
    loaded = diff.load_old(schema)
    if loaded is not None and loaded.kind == "false":
        return [Change(D.PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL, where)]
    return [Change(D.PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL, where)]


def _added(
    diff: Differ, original: dict[str, Json], update: dict[str, Json], schema: Json, name: str, where: str
) -> list[Change]:
    required = name in _required(update)
    with_default = _has_default(diff, schema, True)
    if is_open(original):
        loaded = diff.load_new(schema)
        if loaded is not None and loaded.kind in ("empty", "true"):
            return [Change(D.PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL, where)]
        if required:
            kind = (
                D.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL
                if with_default
                else D.REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
            )
            return [Change(kind, where)]
        return [Change(D.OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL, where)]
    found: list[Change] = []
    partial = _partial(original, name)
    if partial is not None:
        changes = at(where, diff.compare(diff.load_old(partial), diff.load_new(schema)))
        kind = (
            D.PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
            if compatible(changes)
            else D.PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
        )
        found.extend([*changes, Change(kind, where)])
    if required:
        kind = (
            D.REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
            if with_default
            else D.REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL
        )
        found.append(Change(kind, where))
    else:
        found.append(Change(D.OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL, where))
    return found


def _compare_additional(diff: Differ, o: dict[str, Json], u: dict[str, Json]) -> list[Change]:
    where = "/additionalProperties"
    if _permits_additional(o) != _permits_additional(u):
        kind = D.ADDITIONAL_PROPERTIES_ADDED if _permits_additional(u) else D.ADDITIONAL_PROPERTIES_REMOVED
        return [Change(kind, where)]
    before, after = _additional_schema(o), _additional_schema(u)
    if before is None and after is not None:
        return [Change(D.ADDITIONAL_PROPERTIES_NARROWED, where)]
    if after is None and before is not None:
        return [Change(D.ADDITIONAL_PROPERTIES_EXTENDED, where)]
    return at(where, diff.compare(diff.load_old(before), diff.load_new(after)))


def _compare_unevaluated(diff: Differ, o: dict[str, Json], u: dict[str, Json]) -> list[Change]:
    before, after = _unevaluated(o), _unevaluated(u)
    if before is None and after is None:
        return []
    where = "/unevaluatedProperties"
    if before is None:
        kind = D.UNEVALUATED_PROPERTIES_REMOVED if after is False else D.UNEVALUATED_PROPERTIES_NARROWED
    elif after is None:
        kind = D.UNEVALUATED_PROPERTIES_ADDED if before is False else D.UNEVALUATED_PROPERTIES_EXTENDED
    elif before is False and after is not False:
        kind = D.UNEVALUATED_PROPERTIES_ADDED
    elif before is not False and after is False:
        kind = D.UNEVALUATED_PROPERTIES_REMOVED
    elif before in (True, {}) and after not in (True, {}):
        kind = D.UNEVALUATED_PROPERTIES_NARROWED
    elif before not in (True, {}) and after in (True, {}):
        kind = D.UNEVALUATED_PROPERTIES_EXTENDED
    else:
        return at(where, diff.compare(diff.load_old(before), diff.load_new(after)))
    return [Change(kind, where)]
