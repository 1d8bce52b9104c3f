"""JSON Schema compatibility by Confluent's rules (``io.confluent.kafka.schemaregistry.json.diff``).

Each node is first read as the schema class Confluent's loader (everit) would build: string, number,
boolean, null, object, array, enum, const, not, a combined (allOf/anyOf/oneOf) schema, empty, true or
false. ``differences(original, update)`` then lists Confluent's ``Difference.Type`` values from the writer
(``original``) to the reader (``update``); ``can_read`` refuses those outside ``COMPATIBLE_CHANGES``
(Confluent's STRICT policy, its default). Adding a property to an open content model is refused, so is
any combined criterion changed to ``allOf``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from registry.compatibility.jsonschema_object import compare_object
from registry.compatibility.jsonschema_rules import (
    Change,
    Difference,
    Json,
    Node,
    at,
    compatible,
    limit,
    number,
)
from registry.compatibility.model import Incompatibility
from registry.schemas.jsonschema import JsonSchema
from registry.schemas.model import ParsedSchema, canonical_json

logger = logging.getLogger(__name__)

_COMBINERS = ("allOf", "anyOf", "oneOf")
_KEYWORDS = {
    "object": ("properties", "required", "additionalProperties", "patternProperties", "minProperties",
               "maxProperties", "dependencies", "unevaluatedProperties", "propertyNames"),
    "array": ("items", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains"),
    "string": ("minLength", "maxLength", "pattern", "format"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
}  # fmt: skip
_TYPES = {"string", "number", "integer", "boolean", "null", "object", "array"}


def can_read(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why some document written with ``writer`` may not be read by ``reader``: Confluent's refusals."""
    assert isinstance(reader, JsonSchema)
    assert isinstance(writer, JsonSchema)
    return can_read_node(reader, writer, reader.document, writer.document, "")


def can_read_node(
    reader: JsonSchema, writer: JsonSchema, reader_node: Json, writer_node: Json, path: str
) -> list[Incompatibility]:
    """Like :func:`can_read` for one node of each schema (used to class individual changes)."""
    changes = _Diff(writer, reader).compare_json(writer_node, reader_node)
    return [Change(c.type, path + c.path).incompatibility() for c in changes if not c.compatible]


def differences(original: JsonSchema, update: JsonSchema) -> list[Change]:
    """Every difference from ``original`` (the writer) to ``update`` (the reader), compatible or not."""
    return _Diff(original, update).compare_json(original.document, update.document)


class _Loader:
    def __init__(self, schema: JsonSchema) -> None:
        self.schema = schema
        self.cache: dict[int, Node] = {}

    def load(self, node: Json) -> Node | None:
        if node is None:
            return None
        node = self.schema.resolve(node)
        if id(node) not in self.cache:
            self.cache[id(node)] = Node("pending")
            self.cache[id(node)] = self._build(node)
        return self.cache[id(node)]

    def _build(self, node: Json) -> Node:
        if node is True:
            return Node("true")
        if node is False:
            return Node("false")
        if not isinstance(node, dict):
            return Node("empty")
        parts: list[Node] = []
        if "enum" in node:
            parts.append(Node("enum", node))
        if "const" in node:
            parts.append(Node("const", node))
        if "not" in node:
            parts.append(Node("not", node))
        for keyword in _COMBINERS:
            if isinstance(node.get(keyword), list):
                parts.append(Node("combined", node, keyword, [self._part(p) for p in node[keyword]]))
        typed = self._typed(node)
        if typed is not None:
            parts.append(typed)
        if not parts:
            return Node("empty", node)
        return parts[0] if len(parts) == 1 else Node("combined", node, "allOf", parts)

    def _part(self, node: Json) -> Node:
        loaded = self.load(node)
        return loaded if loaded is not None else Node("empty")

    def _typed(self, node: dict[str, Json]) -> Node | None:
        kind = node.get("type")
        if isinstance(kind, str) and kind in _TYPES:
            return _typed_node(kind, node)
        if isinstance(kind, list):
            kinds = [k for k in kind if isinstance(k, str) and k in _TYPES]
            if len(kinds) == 1:
                return _typed_node(kinds[0], node)
            return Node("combined", node, "anyOf", [_typed_node(k, node) for k in kinds])
        implied = [k for k, words in _KEYWORDS.items() if any(w in node for w in words)]
        if not implied:
            return None
        if len(implied) == 1:
            return _typed_node(implied[0], node)
        return Node("combined", node, "allOf", [_typed_node(k, node) for k in implied])


def _typed_node(kind: str, node: dict[str, Json]) -> Node:
    if kind == "integer":
        return Node("number", {**node, "type": "integer"})
    return Node(kind, node)


def _single(node: Node) -> bool:
    return len(node.parts) == 1


class _Diff:
    def __init__(self, original: JsonSchema, update: JsonSchema) -> None:
        self.old = _Loader(original)
        self.new = _Loader(update)
        self.memo: dict[tuple[int, int], list[Change]] = {}

    def load_old(self, node: Json) -> Node | None:
        return self.old.load(node)

    def load_new(self, node: Json) -> Node | None:
        return self.new.load(node)

    def compare_json(self, original: Json, update: Json) -> list[Change]:
        return list(dict.fromkeys(self.compare(self.old.load(original), self.new.load(update))))

    def compare(self, original: Node | None, update: Node | None) -> list[Change]:
        """Differences with paths relative to this pair; a pair already being compared counts as equal."""
        if original is None and update is None:
            return []
        if original is None:
            return [Change(Difference.SCHEMA_ADDED, "")]
        if update is None:
            return [Change(Difference.SCHEMA_REMOVED, "")]
        key = (id(original), id(update))
        if key not in self.memo:
            self.memo[key] = []
            self.memo[key] = self._types(original, update)
        return self.memo[key]

    def _unwrapped(self, original: Node, update: Node) -> list[Change] | None:
        """Confluent's special cases for a combined schema facing a plain one, None when none applies."""
        if original.kind != "combined" and update.kind == "combined":
            if _single(update):
                found = self.compare(original, update.parts[0])
                return found if compatible(found) else None
            if update.criterion in ("anyOf", "oneOf"):
                for part in update.parts:
                    found = self.compare(original, part)
                    if compatible(found):
                        return [*found, Change(Difference.SUM_TYPE_EXTENDED, "")]
        elif original.kind == "combined" and update.kind != "combined":
            if _single(original):
                found = self.compare(original.parts[0], update)
                return found if compatible(found) else None
            if original.criterion == "allOf":
                for part in original.parts:
                    found = self.compare(part, update)
                    if compatible(found):
                        return [*found, Change(Difference.PRODUCT_TYPE_NARROWED, "")]
        return None

    def _types(self, original: Node, update: Node) -> list[Change]:
        unwrapped = self._unwrapped(original, update)
        if unwrapped is not None:
            return unwrapped
        if original.kind != update.kind:
            if original.kind == "false" or update.kind in ("empty", "true"):
                return []
            if original.node.get("connect.type") == "bytes" == update.node.get("connect.type"):
                return []
            return [Change(Difference.TYPE_CHANGED, "")]
        found: list[Change] = []
        for keyword, kind in (
            ("$id", Difference.ID_CHANGED),
            ("title", Difference.TITLE_CHANGED),
            ("description", Difference.DESCRIPTION_CHANGED),
            ("default", Difference.DEFAULT_CHANGED),
        ):
            if original.node.get(keyword) != update.node.get(keyword):
                found.append(Change(kind, ""))
        compare = _RULES.get(original.kind)
        if compare is not None:
            found.extend(compare(self, original, update))
        return found


def _string(diff: _Diff, original: Node, update: Node) -> list[Change]:
    o, u = original.node, update.node
    found = [*limit("maxLength", o, u, "MAX_LENGTH"), *limit("minLength", o, u, "MIN_LENGTH")]
    before, after = o.get("pattern"), u.get("pattern")
    if before is None and after is not None:
        found.append(Change(Difference.PATTERN_ADDED, "/pattern"))
    elif before is not None and after is None:
        found.append(Change(Difference.PATTERN_REMOVED, "/pattern"))
    elif before != after:
        found.append(Change(Difference.PATTERN_CHANGED, "/pattern"))
    return found


def _numeric(diff: _Diff, original: Node, update: Node) -> list[Change]:
    o, u = original.node, update.node
    found = [
        *limit("maximum", o, u, "MAXIMUM"),
        *limit("minimum", o, u, "MINIMUM"),
        *limit("exclusiveMaximum", o, u, "EXCLUSIVE_MAXIMUM"),
        *limit("exclusiveMinimum", o, u, "EXCLUSIVE_MINIMUM"),
    ]
    before, after = number(o.get("multipleOf")), number(u.get("multipleOf"))
    if before != after:
        if before is None:
            kind = Difference.MULTIPLE_OF_ADDED
        elif after is None:
            kind = Difference.MULTIPLE_OF_REMOVED
        elif before and not (after / before) % 1:
            kind = Difference.MULTIPLE_OF_EXPANDED
        elif after and not (before / after) % 1:
            kind = Difference.MULTIPLE_OF_REDUCED
        else:
            kind = Difference.MULTIPLE_OF_CHANGED
        found.append(Change(kind, "/multipleOf"))
    was_integer, is_integer = o.get("type") == "integer", u.get("type") == "integer"
    if was_integer != is_integer:
        found.append(Change(Difference.TYPE_EXTENDED if was_integer else Difference.TYPE_NARROWED, ""))
    return found


def _enum(diff: _Diff, original: Node, update: Node) -> list[Change]:
    before = {canonical_json(v) for v in _list(original.node.get("enum"))}
    after = {canonical_json(v) for v in _list(update.node.get("enum"))}
    if before == after:
        return []
    if after >= before:
        return [Change(Difference.ENUM_ARRAY_EXTENDED, "/enum")]
    if before >= after:
        return [Change(Difference.ENUM_ARRAY_NARROWED, "/enum")]
    return [Change(Difference.ENUM_ARRAY_CHANGED, "/enum")]


def _const(diff: _Diff, original: Node, update: Node) -> list[Change]:
    if canonical_json(original.node.get("const")) == canonical_json(update.node.get("const")):
        return []
    return [Change(Difference.ENUM_ARRAY_CHANGED, "/const")]


def _not(diff: _Diff, original: Node, update: Node) -> list[Change]:
    # Confluent compares the negated schemas the other way round.
    found = diff.compare(diff.new.load(update.node["not"]), diff.old.load(original.node["not"]))
    kind = Difference.NOT_TYPE_NARROWED if compatible(found) else Difference.NOT_TYPE_EXTENDED
    return [Change(kind, "/not")]


def _combined(diff: _Diff, original: Node, update: Node) -> list[Change]:
    found: list[Change] = []
    if original.criterion != update.criterion:
        if (
            update.criterion == "anyOf"
            or (_single(original) and _single(update))
            or (_single(original) and update.criterion == "oneOf")
            or (_single(update) and original.criterion == "allOf")
        ):
            found.append(Change(Difference.COMBINED_TYPE_EXTENDED, ""))
        else:
            return [Change(Difference.COMBINED_TYPE_CHANGED, "")]
    before, after = _distinct(original.parts), _distinct(update.parts)
    if len(before) < len(after):
        kind = (
            Difference.PRODUCT_TYPE_EXTENDED if update.criterion == "allOf" else Difference.SUM_TYPE_EXTENDED
        )
        found.append(Change(kind, ""))
    elif len(before) > len(after):
        kind = (
            Difference.PRODUCT_TYPE_NARROWED
            if original.criterion == "allOf"
            else Difference.SUM_TYPE_NARROWED
        )
        found.append(Change(kind, ""))
    edges: dict[tuple[int, int], list[Change]] = {}
    for i, old_part in enumerate(before):
        for j, new_part in enumerate(after):
            changes = diff.compare(old_part, new_part)
            if compatible(changes):
                edges[(i, j)] = at(f"/{original.criterion}/{i}", changes)
    matching = _maximum_matching(len(before), edges)
    for pair in matching:
        found.extend(edges[pair])
    if len(matching) < min(len(before), len(after)):
        found.append(Change(Difference.COMBINED_TYPE_SUBSCHEMAS_CHANGED, ""))
    return found


def _distinct(parts: list[Node]) -> list[Node]:
    seen: dict[str, Node] = {}
    for part in parts:
        seen.setdefault(f"{part.kind}:{part.criterion}:{canonical_json(part.node)}", part)
    return list(seen.values())


def _maximum_matching(left: int, edges: dict[tuple[int, int], list[Change]]) -> list[tuple[int, int]]:
    """A maximum bipartite matching over ``edges`` by augmenting paths (branch counts are small)."""
    match: dict[int, int] = {}

    def augment(i: int, visited: set[int]) -> bool:
        for a, j in edges:
            if a == i and j not in visited:
                visited.add(j)
                if j not in match or augment(match[j], visited):
                    match[j] = i
                    return True
        return False

    for i in range(left):
        augment(i, set())
    return sorted((i, j) for j, i in match.items())


def _array(diff: _Diff, original: Node, update: Node) -> list[Change]:
    o, u = original.node, update.node
    found: list[Change] = []
    before, after = o.get("items"), u.get("items")
    if not isinstance(before, list) and not isinstance(after, list):
        found.extend(at("/items", diff.compare(diff.load_old(before), diff.load_new(after))))
    found.extend(limit("maxItems", o, u, "MAX_ITEMS"))
    found.extend(limit("minItems", o, u, "MIN_ITEMS"))
    was_unique, is_unique = o.get("uniqueItems") is True, u.get("uniqueItems") is True
    if was_unique != is_unique:
        kind = Difference.UNIQUE_ITEMS_REMOVED if was_unique else Difference.UNIQUE_ITEMS_ADDED
        found.append(Change(kind, "/uniqueItems"))
    return found


def _list(value: Json) -> list[Json]:
    return value if isinstance(value, list) else []


_RULES: dict[str, Callable[[_Diff, Node, Node], list[Change]]] = {
    "string": _string,
    "number": _numeric,
    "enum": _enum,
    "const": _const,
    "not": _not,
    "combined": _combined,
    "object": compare_object,
    "array": _array,
}
