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


def _window_steps() -> list[dict[str, Any]]:
    return [
        {"id": "src", "mode": "read", "component": "kafka.governed_source", "config": {}, "upstream": None},
        {"id": "once", "mode": "transform", "component": "quality.expectations", "upstream": "src",
         "config": {"expectations": [{"expect": "unique_in_window", "column": "id", "window_ms": 1000}]}},
        {"id": "win", "mode": "transform", "component": "transform.window_aggregate", "upstream": "once",
         "config": {"key": "k", "window_ms": 1000,
                    "aggregates": {"n": {"fn": "count"}, "total": {"fn": "sum", "column": "v"},
                                   "mean": {"fn": "avg", "column": "v"},
                                   "top": {"fn": "max", "column": "v"}}}},
        {"id": "out", "mode": "write", "component": "sql.table_sink", "config": {}, "upstream": "win"},
    ]  # fmt: skip


def test_window_and_unique_state_restored_from_json_continue_as_if_never_interrupted() -> None:
    import json

    rows = [Row({"id": i % 11, "k": ["a", "b", "c"][i % 3], "v": i}, None, 100 + i * 45) for i in range(120)]

    def outcome(topology: Topology, batch: list[Row]) -> tuple[list[dict[str, Any]], list[Any]]:
        result = topology.push(batch)
        return [r.value for r in result.writes["out"]], [r.row.value["id"] for r in result.rejections]

    whole = Topology(_window_steps())
    written, rejected = outcome(whole, rows)
    written += [r.value for r in whole.drain().writes["out"]]

    first = Topology(_window_steps())
    written_a, rejected_a = outcome(first, rows[:53])  # mid-window for every key
    saved = json.loads(json.dumps(first.state()))
    assert set(saved) == {"once", "win"}
    second = Topology(_window_steps())  # a new process
    second.restore(saved)
    written_b, rejected_b = outcome(second, rows[53:])
    written_b += [r.value for r in second.drain().writes["out"]]
    assert written_a + written_b == written
    assert rejected_a + rejected_b == rejected
    forgetful = Topology(_window_steps())  # what a restart without the saved state would do
    written_c, rejected_c = outcome(forgetful, rows[53:])
    written_c += [r.value for r in forgetful.drain().writes["out"]]
    assert written_a + written_c != written
    assert len(rejected_c) < len(rejected_b)  # it lets a duplicate of a record before the cut through
    assert Topology(_window_steps()).stateful
