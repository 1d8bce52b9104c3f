"""The topology of the compiled example, and each operator, on hand-made rows (no broker)."""

from __future__ import annotations

from typing import Any

from oml.compile import compile_pipeline
from oml.connections import Connections
from oml.context import StaticContext
from oml.runtime.operators import Expectations, Rejection, Row, WindowAggregate
from oml.runtime.topology import Topology
from oml.validate import validate
from tests.unit.oml.conftest import ENV

ORDERS: list[dict[str, Any]] = [
    {"order_id": "o-1", "amount_cents": 1250, "status": "PAID"},
    {"order_id": "o-2", "amount_cents": 990, "status": "PAID"},  # below the threshold
    {"order_id": "o-3", "amount_cents": 7000, "status": "PLACED"},  # not paid
    {"order_id": "x-4", "amount_cents": 5000, "status": "SHIPPED"},  # fails the regex
    {"order_id": "o-5", "amount_cents": 5000, "status": "SHIPPED"},
    {"order_id": "o-5", "amount_cents": 5000, "status": "SHIPPED"},  # not unique in its window
]


def _rows(values: list[dict[str, Any]], start: int = 1_000) -> list[Row]:
    return [Row(dict(v), v.get("order_id", "").encode(), start + i) for i, v in enumerate(values)]


def test_the_example_topology_filters_checks_computes_and_shapes(
    example_text: str, connections: Connections, context: StaticContext
) -> None:
    manifest = compile_pipeline(validate(example_text, connections=connections, env=ENV), context).manifest
    topology = Topology(manifest["steps"])
    result = topology.push(_rows(ORDERS))
    expected = [
        {"order_id": "o-1", "status": "PAID", "amount_cents": 1250, "amount_eur": 12.5, "large": 0},
        {"order_id": "o-5", "status": "SHIPPED", "amount_cents": 5000, "amount_eur": 50.0, "large": 1},
    ]
    assert [r.value for r in result.writes["to_table"]] == expected
    assert [r.value for r in result.writes["to_topic"]] == expected
    assert [(r.row.value["order_id"], r.expectation) for r in result.rejections] == [
        ("x-4", "regex(order_id)"),
        ("o-5", "unique_in_window(order_id)"),
    ]
    assert topology.stats["paid"].rows_in == 6
    assert topology.stats["paid"].rows_out == 4
    assert topology.stats["checked"].rejected == 2


def test_each_expectation_names_itself_when_it_fails() -> None:
    checks = Expectations(
        "e",
        [
            {"expect": "not_null", "column": "a"},
            {"expect": "range", "column": "n", "min": 0, "max": 10},
            {
                "expect": "matches_schema",
                "name": "shape",
                "schema": {"properties": {"s": {"type": "string"}}},
            },
        ],
    )
    cases: dict[str, dict[str, Any]] = {
        "not_null(a)": {"a": None, "n": 1},
        "range(n)": {"a": 1, "n": 11},
        "shape": {"a": 1, "n": 1, "s": 5},
    }
    for name, value in cases.items():
        out = checks.process(Row(value, None, 0))
        assert isinstance(out, Rejection)
        assert out.expectation == name
    assert checks.process(Row({"a": 1, "n": 10, "s": "x"}, None, 0)) != []


def test_tumbling_window_emits_when_a_later_window_starts_and_drains_at_the_end() -> None:
    window = WindowAggregate(
        "k",
        1000,
        {"n": {"fn": "count"}, "total": {"fn": "sum", "column": "v"}, "mean": {"fn": "avg", "column": "v"}},
    )
    assert window.process(Row({"k": "a", "v": 1}, None, 100)) == []
    assert window.process(Row({"k": "a", "v": 3}, None, 900)) == []
    assert window.process(Row({"k": "b", "v": 5}, None, 950)) == []
    closed = window.process(Row({"k": "a", "v": 10}, None, 1500))
    assert isinstance(closed, list)
    assert [r.value for r in closed] == [
        {"k": "a", "window_start": 0, "window_end": 1000, "n": 2, "total": 4, "mean": 2.0},
        {"k": "b", "window_start": 0, "window_end": 1000, "n": 1, "total": 5, "mean": 5.0},
    ]
    assert [r.value["total"] for r in window.drain()] == [10]
