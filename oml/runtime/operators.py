"""The operators of a topology, one per transform component (pure: no Kafka, no database, no clock).

An operator takes a :class:`Row` and returns the rows it passes on. Expectations return the failing row's
:class:`Rejection` instead, which the runner sends to the DLQ. Windowed state (aggregates, unique-in-window)
lives in memory, keyed by record time; :meth:`Operator.state` and :meth:`Operator.restore` give it as JSON
so the runner can persist it with the offsets it covers and restore it after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from oml.expressions import Evaluator


@dataclass(slots=True)
class Row:
    value: dict[str, Any]
    key: bytes | None
    timestamp_ms: int
    origin: Any = None  # what the source knows about the record (its GovernedRecord), for dead letters


@dataclass(frozen=True, slots=True)
class Rejection:
    row: Row
    step: str
    expectation: str
    reason: str


Output = list[Row] | Rejection


class Operator:
    def process(self, row: Row) -> Output:
        raise NotImplementedError

    def advance(self, watermark_ms: int) -> list[Row]:
        """Rows a window closed by ``watermark_ms`` releases (none for stateless operators)."""
        return []

    def drain(self) -> list[Row]:
        """Rows of every open window, at the end of a bounded run."""
        return []

    def state(self) -> Any:
        """The operator's state as JSON values (None for stateless operators)."""
        return None

    def restore(self, state: Any) -> None:
        """Take back what :meth:`state` gave (before any row is processed)."""


class Filter(Operator):
    def __init__(self, where: str) -> None:
        self._eval = Evaluator({"keep": where})

    def process(self, row: Row) -> Output:
        return [row] if self._eval(row.value)["keep"] else []


class SqlSelect(Operator):
    def __init__(self, select: Mapping[str, str], keep: bool = True) -> None:
        self._eval = Evaluator(select)
        self._keep = keep

    def process(self, row: Row) -> Output:
        computed = self._eval(row.value)
        value = {**row.value, **computed} if self._keep else computed
        return [Row(value, row.key, row.timestamp_ms, row.origin)]


class Project(Operator):
    def __init__(self, columns: Mapping[str, str]) -> None:
        self._columns = tuple(columns.items())

    def process(self, row: Row) -> Output:
        value = {out: row.value.get(src) for out, src in self._columns}
        return [Row(value, row.key, row.timestamp_ms, row.origin)]


Check = Callable[[Row], str | None]  # why the row fails, or None


def _name(item: Mapping[str, Any]) -> str:
    if "name" in item:
        return str(item["name"])
    column = item.get("column")
    return str(item["expect"]) if column is None else f"{item['expect']}({column})"


class Expectations(Operator):
    def __init__(self, step: str, expectations: list[Mapping[str, Any]]) -> None:
        self.step = step
        self._seen: dict[str, dict[int, set[Any]]] = {}
        self._checks: list[tuple[str, Check]] = [(_name(item), self._check(item)) for item in expectations]

    def _check(self, item: Mapping[str, Any]) -> Check:
        kind = item["expect"]
        column = str(item.get("column", ""))
        if kind == "not_null":
            return lambda row: f"{column} is null" if row.value.get(column) is None else None
        if kind == "range":
            low, high = item.get("min"), item.get("max")

            def in_range(row: Row) -> str | None:
                value = row.value.get(column)
                if not isinstance(value, int | float) or isinstance(value, bool):
                    return f"{column} is not a number: {type(value).__name__}"
                if (low is not None and value < low) or (high is not None and value > high):
                    return f"{column}={value} is outside [{low}, {high}]"
                return None

            return in_range
        if kind == "regex":
            pattern = re.compile(item["pattern"])

            def matches(row: Row) -> str | None:
                value = row.value.get(column)
                if not isinstance(value, str) or pattern.fullmatch(value) is None:
                    return f"{column} does not match {item['pattern']}"
                return None

            return matches
        if kind == "matches_schema":
            validator = Draft202012Validator(item["schema"])

            def conforms(row: Row) -> str | None:
                error = next(iter(validator.iter_errors(row.value)), None)
                if error is None:
                    return None
                where = ".".join(str(p) for p in error.absolute_path) or "record"
                return f"{where}: {error.message}"

            return conforms
        window = int(item["window_ms"])
        seen = self._seen.setdefault(str(column), {})

        def unique(row: Row) -> str | None:
            start = row.timestamp_ms - row.timestamp_ms % window
            for old in [w for w in seen if w < start - window]:
                del seen[old]
            values = seen.setdefault(start, set())
            value = row.value.get(column)
            if value in values:
                return f"{column}={value!r} already seen in the window starting at {start}"
            values.add(value)
            return None

        return unique

    def state(self) -> Any:
        if not self._seen:
            return None
        return {
            column: [[start, sorted(values, key=repr)] for start, values in sorted(windows.items())]
            for column, windows in sorted(self._seen.items())
        }

    def restore(self, state: Any) -> None:
        for column, windows in (state or {}).items():
            seen = self._seen.get(column)
            if seen is None:  # a column no expectation checks any more
                continue
            seen.clear()
            seen.update({int(start): {_hashable(v) for v in values} for start, values in windows})

    def process(self, row: Row) -> Output:
        for name, check in self._checks:
            reason = check(row)
            if reason is not None:
                return Rejection(row, self.step, name, reason)
        return [row]


@dataclass
class _Window:
    start: int
    values: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class WindowAggregate(Operator):
    """Tumbling windows of ``window_ms`` by record time, per key; a window closes when a record of a later
    window has been seen (the watermark passed its end)."""

    def __init__(self, key: str, window_ms: int, aggregates: Mapping[str, Mapping[str, Any]]) -> None:
        self._key = key
        self._size = window_ms
        self._aggs = tuple((name, str(a["fn"]), a.get("column")) for name, a in aggregates.items())
        self._open: dict[tuple[Any, int], _Window] = {}
        self._watermark = 0

    def process(self, row: Row) -> Output:
        start = row.timestamp_ms - row.timestamp_ms % self._size
        key = row.value.get(self._key)
        window = self._open.setdefault((key, start), _Window(start))
        for name, fn, column in self._aggs:
            value: Any = None if column is None else row.value.get(column)
            if fn != "count" and value is None:
                continue
            current = window.values.get(name)
            if fn == "count":
                window.values[name] = (current or 0) + 1
            elif fn in {"sum", "avg"}:
                window.values[name] = (current or 0) + value
                window.counts[name] = window.counts.get(name, 0) + 1
            elif fn == "min":
                window.values[name] = value if current is None else min(current, value)
            else:
                window.values[name] = value if current is None else max(current, value)
        return self.advance(row.timestamp_ms)

    def advance(self, watermark_ms: int) -> list[Row]:
        self._watermark = max(self._watermark, watermark_ms)
        closed = [k for k in self._open if k[1] + self._size <= self._watermark]
        return [self._emit(k) for k in sorted(closed, key=lambda k: (k[1], str(k[0])))]

    def drain(self) -> list[Row]:
        return [self._emit(k) for k in sorted(self._open, key=lambda k: (k[1], str(k[0])))]

    def state(self) -> Any:
        windows = [
            [key, start, w.values, w.counts]
            for (key, start), w in sorted(self._open.items(), key=lambda i: (i[0][1], str(i[0][0])))
        ]
        return {"watermark": self._watermark, "windows": windows}

    def restore(self, state: Any) -> None:
        if not state:
            return
        self._watermark = int(state["watermark"])
        self._open = {
            (_hashable(key), int(start)): _Window(int(start), dict(values), dict(counts))
            for key, start, values, counts in state["windows"]
        }

    def _emit(self, key: tuple[Any, int]) -> Row:
        window = self._open.pop(key)
        end = window.start + self._size
        value: dict[str, Any] = {self._key: key[0], "window_start": window.start, "window_end": end}
        for name, fn, _ in self._aggs:
            result = window.values.get(name)
            if fn == "avg" and result is not None:
                result = result / window.counts[name]
            value[name] = 0 if fn == "count" and result is None else result
        encoded = None if key[0] is None else str(key[0]).encode()
        return Row(value, encoded, window.start + self._size - 1)


def _hashable(value: Any) -> Any:
    """A JSON value back as a set member or dict key (lists, as JSON gives tuples back, become tuples)."""
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def build_operator(step: Mapping[str, Any]) -> Operator:
    """The operator of a manifest step (transform components only)."""
    component, cfg = step["component"], step["config"]
    if component == "transform.filter":
        return Filter(cfg["where"])
    if component == "transform.sql":
        return SqlSelect(cfg["select"], cfg.get("keep", True))
    if component == "transform.project":
        return Project(cfg["columns"])
    if component == "quality.expectations":
        return Expectations(step["id"], cfg["expectations"])
    if component == "transform.window_aggregate":
        return WindowAggregate(cfg["key"], int(cfg["window_ms"]), cfg["aggregates"])
    raise ValueError(f"component {component} is not a transform")


__all__ = ["Expectations", "Filter", "Operator", "Output", "Project", "Rejection", "Row", "SqlSelect",
           "WindowAggregate", "build_operator"]  # fmt: skip
