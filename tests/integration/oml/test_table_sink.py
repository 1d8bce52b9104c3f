"""The SQL table sink on a real PostgreSQL: an upsert by key, so a redelivered batch leaves each row once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from oml.runtime.operators import Row
from oml.runtime.sinks import TableSink

pytestmark = pytest.mark.integration


def test_redelivered_batches_leave_each_key_once_with_its_latest_values(
    database_factory: Callable[[], str],
) -> None:
    url = database_factory()
    sink = TableSink(url, "paid_orders", ["order_id"], ["order_id", "amount_cents", "large"], setting="test")
    batch = [Row({"order_id": f"o-{i}", "amount_cents": i * 100, "large": False}, None, 0) for i in range(5)]
    sink.write(batch)
    sink.write(batch)  # the batch again, as after a crash before its offsets were committed
    sink.write([Row({"order_id": "o-1", "amount_cents": 999, "large": True}, None, 0)])
    sink.close()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT order_id, amount_cents, large FROM paid_orders ORDER BY order_id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("o-0", 0, False), ("o-1", 999, True), ("o-2", 200, False), ("o-3", 300, False), ("o-4", 400, False)
    ]  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_table_another_process_created_after_this_one_looked_is_used_not_a_failure(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'sink.db'}"
    else:
        factory: Callable[[], str] = request.getfixturevalue("database_factory")
        url = factory()
    columns = ["order_id", "amount_cents"]
    first, second = (TableSink(url, "paid_orders", ["order_id"], columns, setting="test") for _ in range(2))
    real, looks = first._reflect, []

    def reflect() -> sa.Table | None:  # the first look finds nothing: the other process creates it after
        looks.append(1)
        return None if len(looks) == 1 else real()

    monkeypatch.setattr(first, "_reflect", reflect)
    second.write([Row({"order_id": "o-1", "amount_cents": 100}, None, 0)])
    first.write([Row({"order_id": "o-2", "amount_cents": 200}, None, 0)])  # its CREATE fails: table exists
    for sink in (first, second):
        sink.close()
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT order_id FROM paid_orders ORDER BY order_id")).scalars().all()
    engine.dispose()
    assert rows == ["o-1", "o-2"]
    assert len(looks) == 2  # looked, failed to create, looked again
