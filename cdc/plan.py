"""Pure CDC decisions: decode a Debezium envelope, filter, redact and rename a row, and plan sink actions.

No I/O here. The router feeds consumed records in, the sink applies the returned actions. The source order
of one key is kept: a batch's actions for a key collapse to the last one (the sink also ignores an action
whose LSN is not newer than what it holds for that key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from cdc.routes import Condition, Route
from cdc.schemas import row_fields

Row = dict[str, Any]
Key = tuple[Any, ...]


class DecodeError(ValueError):
    """A change topic's record is not a Debezium change event."""


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    op: Literal["c", "u", "d", "r", "t"]
    before: Row | None
    after: Row | None
    lsn: int
    ts_ms: int
    columns: Mapping[str, str] = field(default_factory=dict)  # column -> Connect type (from the schema)
    fields: tuple[Mapping[str, Any], ...] = ()  # the row struct's Connect fields, as the envelope has them


def decode(value: bytes | None) -> ChangeEvent | None:
    """The change event in a record's value; None for a tombstone (a delete's second record)."""
    if value is None:
        return None
    try:
        doc = orjson.loads(value)  # a Debezium envelope is mostly its schema: the parser's speed shows
    except orjson.JSONDecodeError as exc:
        raise DecodeError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise DecodeError("not a Debezium envelope: a JSON object was expected")
    payload = doc.get("payload", doc) if "schema" in doc else doc
    if not isinstance(payload, dict):
        raise DecodeError("not a Debezium envelope: payload is not an object")
    op = payload.get("op")
    if op not in {"c", "u", "d", "r", "t"}:
        raise DecodeError(f"not a Debezium envelope: op {op!r}")
    source = payload.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("lsn"), int):
        raise DecodeError("not a Debezium envelope: source.lsn missing")
    before, after = payload.get("before"), payload.get("after")
    if before is not None and not isinstance(before, dict):
        raise DecodeError("before is not an object")
    if after is not None and not isinstance(after, dict):
        raise DecodeError("after is not an object")
    if op in {"c", "u", "r"} and after is None:
        raise DecodeError(f"op {op} without after")
    if op == "d" and before is None:
        raise DecodeError("delete without before")
    ts = source.get("ts_ms") or payload.get("ts_ms") or 0
    columns, fields = _schema_parts(doc.get("schema"))
    return ChangeEvent(op, before, after, int(source["lsn"]), int(ts), columns, fields)


# Envelope name -> (schema, its column types, its row fields): every event of a table carries the same
# schema, so its parts are worked out once per table and schema version (checked by equality).
_SCHEMA_PARTS: dict[str, tuple[Any, dict[str, str], tuple[Mapping[str, Any], ...]]] = {}


def _schema_parts(schema: Any) -> tuple[dict[str, str], tuple[Mapping[str, Any], ...]]:
    name = schema.get("name") if isinstance(schema, dict) else None
    known = _SCHEMA_PARTS.get(name) if isinstance(name, str) else None
    if known is not None and known[0] == schema:
        return known[1], known[2]
    parts = _columns(schema), row_fields(schema)
    if isinstance(name, str):
        _SCHEMA_PARTS[name] = (schema, *parts)
    return parts


def _columns(schema: Any) -> dict[str, str]:
    if not isinstance(schema, dict):
        return {}
    for part in schema.get("fields", ()):
        if isinstance(part, dict) and part.get("field") in {"after", "before"}:
            return {
                str(f["field"]): str(f.get("name") or f.get("type"))
                for f in part.get("fields", ())
                if isinstance(f, dict) and "field" in f
            }
    return {}


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "is_null": lambda a, _b: a is None,
    "not_null": lambda a, _b: a is not None,
}


def passes(row: Mapping[str, Any], conditions: Sequence[Condition]) -> bool:
    """Whether a source row is kept by a route's filter (all conditions hold; a type mismatch fails)."""
    for cond in conditions:
        try:
            if not _OPS[cond.op](row.get(cond.column), cond.value):
                return False
        except TypeError:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Upsert:
    key: Key
    row: Row
    lsn: int


@dataclass(frozen=True, slots=True)
class Delete:
    key: Key
    row: Row
    lsn: int


@dataclass(frozen=True, slots=True)
class Truncate:
    lsn: int


Action = Upsert | Delete | Truncate


def key_of(route: Route, row: Mapping[str, Any]) -> Key:
    return tuple(row.get(column) for column in route.key)


def plan(
    route: Route, events: Iterable[ChangeEvent], redact: Callable[[Row], Row] | None = None
) -> list[Action]:
    """Sink actions for ``events`` in source order; one per key (its last), truncates as barriers.

    A row that leaves the filter (an update that no longer passes it) is deleted from the sink. Redaction
    happens on source column names, then renames; keys are read before either (keys are never redacted).
    """
    actions: list[Action] = []
    pending: dict[Key, Action] = {}

    def mapped(row: Row) -> Row:
        out = redact(row) if redact is not None else dict(row)
        return {route.rename.get(k, k): v for k, v in out.items()}

    for event in events:
        if event.op == "t":
            actions.extend(pending.values())
            pending.clear()
            actions.append(Truncate(event.lsn))
            continue
        if event.op == "d":
            assert event.before is not None
            key = key_of(route, event.before)
            pending.pop(key, None)
            pending[key] = Delete(key, mapped(event.before), event.lsn)
            continue
        assert event.after is not None
        key = key_of(route, event.after)
        if event.op == "u" and event.before is not None:
            old = key_of(route, event.before)
            if old != key:  # the key itself changed: the old row goes
                pending.pop(old, None)
                pending[old] = Delete(old, mapped(event.before), event.lsn)
        pending.pop(key, None)
        if passes(event.after, route.filter):
            pending[key] = Upsert(key, mapped(event.after), event.lsn)
        else:
            pending[key] = Delete(key, mapped(event.after), event.lsn)
    actions.extend(pending.values())
    return actions


__all__ = [
    "Action",
    "ChangeEvent",
    "DecodeError",
    "Delete",
    "Key",
    "Row",
    "Truncate",
    "Upsert",
    "decode",
    "key_of",
    "passes",
    "plan",
]
