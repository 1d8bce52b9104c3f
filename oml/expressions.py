"""SQL expressions of OML steps (filters, computed columns), checked and evaluated by SQLite.

SQLite is the parser: an expression is prepared as ``SELECT (expr) FROM _record``; each "no such column"
answer names a column the expression reads, which is added and the expression prepared again, so checking
also yields the expression's column lineage. Only one expression, over one record: no statements, no other
tables. Evaluation binds a record's values as parameters of one prepared statement per step.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

_NO_SUCH_COLUMN = re.compile(r"no such column: (?:_record\.)?\"?([A-Za-z_][A-Za-z0-9_]*)\"?")
_MAX_COLUMNS = 200


class ExpressionError(ValueError):
    """An expression SQLite refuses, with its sentence."""


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def columns_read(expressions: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """For each expression the input columns it reads (sorted); raises ExpressionError for a bad one."""
    db = sqlite3.connect(":memory:")
    try:
        return tuple(_columns_of(db, expr) for expr in expressions)
    finally:
        db.close()


def _columns_of(db: sqlite3.Connection, expr: str) -> tuple[str, ...]:
    if ";" in expr:
        raise ExpressionError("an expression is one SQL expression, without ';'")
    columns: list[str] = []
    while len(columns) <= _MAX_COLUMNS:
        select = ", ".join(f"NULL AS {_quote(c)}" for c in columns) or "NULL AS _none"
        sql = f"SELECT ({expr}) FROM (SELECT {select}) AS _record"  # noqa: S608 - prepared, never run on data
        try:
            db.execute(f"EXPLAIN {sql}")
        except sqlite3.Error as exc:
            message = str(exc)
            match = _NO_SUCH_COLUMN.fullmatch(message)
            if match is None or match.group(1) in columns:
                raise ExpressionError(f"not a valid SQL expression: {message}") from exc
            columns.append(match.group(1))
            continue
        return tuple(sorted(columns))
    raise ExpressionError(f"the expression reads more than {_MAX_COLUMNS} columns")


def _bindable(value: Any) -> Any:
    if value is None or isinstance(value, int | float | str | bytes):
        return value
    if isinstance(value, bool):
        return int(value)
    return json.dumps(value, sort_keys=True, default=str)


class Evaluator:
    """Evaluate named expressions over records; the columns each reads are known from :func:`columns_read`."""

    def __init__(self, expressions: Mapping[str, str]) -> None:
        self.names = tuple(expressions)
        reads = columns_read(list(expressions.values()))
        self.columns = tuple(sorted({c for cols in reads for c in cols}))
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        select = ", ".join(f"? AS {_quote(c)}" for c in self.columns) or "NULL AS _none"
        exprs = ", ".join(f"({expr})" for expr in expressions.values())
        self._sql = f"SELECT {exprs} FROM (SELECT {select}) AS _record"  # noqa: S608 - values are bound

    def __call__(self, record: Mapping[str, Any]) -> dict[str, Any]:
        params = [_bindable(record.get(c)) for c in self.columns]
        row = self._db.execute(self._sql, params).fetchone()
        return dict(zip(self.names, row, strict=True))

    def close(self) -> None:
        self._db.close()


__all__ = ["Evaluator", "ExpressionError", "columns_read"]
