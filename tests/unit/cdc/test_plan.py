"""Decoding Debezium envelopes and planning sink actions: pure, without servers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdc.plan import ChangeEvent, DecodeError, Delete, Truncate, Upsert, decode, passes, plan
from cdc.routes import Condition, Route
from spine.redaction import FieldRedaction, Redactor

ROUTE = Route(
    table="public.customers",
    dataset="crm.customers",
    sink="analytics-eu",
    key=("id",),
    rename={"name": "full_name"},
    filter=(Condition(column="country", op="ne", value="XX"),),
)


def envelope(op: str, before: Any, after: Any, lsn: int = 100) -> bytes:
    schema = {"fields": [{"field": "after", "fields": [{"field": "id", "type": "int32"}]}]}
    payload = {"op": op, "before": before, "after": after, "source": {"lsn": lsn, "ts_ms": 5}}
    return json.dumps({"schema": schema, "payload": payload}).encode()


def event(op: str, before: Any, after: Any, lsn: int) -> ChangeEvent:
    decoded = decode(envelope(op, before, after, lsn))
    assert decoded is not None
    return decoded


def test_an_envelope_decodes_with_its_lsn_and_column_types() -> None:
    decoded = decode(envelope("c", None, {"id": 1}, 42))
    fields = ({"field": "id", "type": "int32"},)
    assert decoded == ChangeEvent("c", None, {"id": 1}, 42, 5, {"id": "int32"}, fields)
    assert decode(None) is None  # a tombstone


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff", "not JSON"),
        (b"[1]", "a JSON object was expected"),
        (json.dumps({"op": "x", "source": {"lsn": 1}}).encode(), "op 'x'"),
        (json.dumps({"op": "c", "after": {"id": 1}}).encode(), "source.lsn missing"),
        (json.dumps({"op": "c", "after": None, "source": {"lsn": 1}}).encode(), "op c without after"),
        (json.dumps({"op": "d", "before": None, "source": {"lsn": 1}}).encode(), "delete without before"),
    ],
)
def test_what_is_not_a_change_event_is_a_decode_error(raw: bytes, problem: str) -> None:
    with pytest.raises(DecodeError, match=problem):
        decode(raw)


def test_a_keys_changes_collapse_to_the_last_in_source_order() -> None:
    events = [
        event("c", None, {"id": 1, "name": "a", "country": "UK"}, 1),
        event("u", {"id": 1}, {"id": 1, "name": "b", "country": "UK"}, 2),
        event("c", None, {"id": 2, "name": "c", "country": "UK"}, 3),
        event("d", {"id": 2, "name": "c", "country": "UK"}, None, 4),
    ]
    assert plan(ROUTE, events) == [
        Upsert((1,), {"id": 1, "full_name": "b", "country": "UK"}, 2),
        Delete((2,), {"id": 2, "full_name": "c", "country": "UK"}, 4),
    ]


def test_a_row_that_leaves_the_filter_is_deleted_and_redaction_precedes_renaming() -> None:
    redact = Redactor([FieldRedaction("name", "mask")])
    events = [event("u", {"id": 1}, {"id": 1, "name": "secret", "country": "XX"}, 7)]
    assert plan(ROUTE, events, redact) == [Delete((1,), {"id": 1, "full_name": "****", "country": "XX"}, 7)]
    events = [event("c", None, {"id": 3, "name": "secret", "country": "UK"}, 8)]
    assert plan(ROUTE, events, redact) == [Upsert((3,), {"id": 3, "full_name": "****", "country": "UK"}, 8)]


def test_a_truncate_is_a_barrier_between_the_changes_before_and_after_it() -> None:
    events = [
        event("c", None, {"id": 1, "country": "UK"}, 1),
        ChangeEvent("t", None, None, 2, 0),
        event("c", None, {"id": 1, "country": "FR"}, 3),
    ]
    assert plan(ROUTE, events) == [
        Upsert((1,), {"id": 1, "country": "UK"}, 1),
        Truncate(2),
        Upsert((1,), {"id": 1, "country": "FR"}, 3),
    ]


@pytest.mark.parametrize(
    ("op", "value", "row", "kept"),
    [
        ("eq", 1, {"a": 1}, True),
        ("lt", 5, {"a": None}, False),
        ("in", [1, 2], {"a": 3}, False),
        ("is_null", None, {}, True),
        ("gt", 1, {"a": "text"}, False),  # a type mismatch never passes
    ],
)
def test_filter_conditions(op: str, value: Any, row: dict[str, Any], kept: bool) -> None:
    assert passes(row, [Condition(column="a", op=op, value=value)]) is kept


def test_status_percentiles_and_rates_come_from_commit_timestamps() -> None:
    from cdc.status import percentile, summarize

    assert percentile([], 95) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    batches = [
        ('{"t:0": 10}', 100, '["d1"]', 1_000, 1_100),
        ('{"t:0": 20}', 100, '["d2"]', 2_000, 2_300),
        ('{"t:0": 30}', 100, '["d3"]', None, 3_100),
    ]
    summary = summarize("r", batches, True)
    assert summary["lag_p50_ms"] == 100.0
    assert summary["lag_p95_ms"] == 300.0
    assert summary["rows_per_s"] == 150.0  # 300 rows over 2 s
    assert summary["last_position"] == '{"t:0": 30}'
    assert summary["last_decision"] == "d3"
    assert summary["state"] == "streaming"
