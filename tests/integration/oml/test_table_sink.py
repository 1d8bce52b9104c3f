"""The SQL table sink on a real PostgreSQL: an upsert by key, so a redelivered batch leaves each row once."""

from __future__ import annotations

from collections.abc import Callable

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
