"""The SQL sink on its own, against a SQLite file and a real PostgreSQL database.

Batches of planned actions land once by key: a redelivered or older change is ignored (the row's LSN, a
delete's tombstone, the route's last truncate), soft deletes mark rows, and after any split of a change
stream into batches, with any batch delivered again, the sink holds the source's final rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cdc.plan import ChangeEvent, plan
from cdc.routes import Route
from cdc.sink import DELETED, LSN, SqlSink

pytestmark = pytest.mark.integration

COLUMNS = {"id": "int32", "region": "string", "name": "string", "score": "int64"}
ROUTE = Route(
    table="public.people", dataset="crm.people", sink="s", key=("id",), rename={"name": "full_name"}
)
SOFT = ROUTE.model_copy(update={"delete": "soft_delete", "sink_table": "people_soft"})
COMPOSITE = ROUTE.model_copy(update={"key": ("region", "id"), "sink_table": "people_by_region"})


@pytest.fixture(params=["sqlite", "postgresql"])
def sink(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlSink]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'sink.db'}"
    else:
        factory: Callable[[], str] = request.getfixturevalue("database_factory")
        url = factory()
    sink = SqlSink("s", url)
    sink.start()
    yield sink
    sink.close()


def person(pid: int, name: str, region: str = "eu", score: int = 0) -> dict[str, Any]:
    return {"id": pid, "region": region, "name": name, "score": score}


def change(
    op: str, lsn: int, before: dict[str, Any] | None = None, after: dict[str, Any] | None = None
) -> ChangeEvent:
    return ChangeEvent(op, before, after, lsn, lsn, COLUMNS)  # type: ignore[arg-type]


def apply(sink: SqlSink, route: Route, events: Sequence[ChangeEvent], offset: int = 0) -> int:
    sample = next((e.after or e.before or {} for e in events if e.after or e.before), person(0, "x"))
    table = sink.table(route, COLUMNS, {route.rename.get(k, k): v for k, v in sample.items()})
    return sink.apply(
        route, table, plan(route, events), {("topic", 0): offset},
        dead_lettered=0, decision_ids=["d-1"], source_ts_ms=None,
    )  # fmt: skip


def rows(sink: SqlSink, route: Route) -> dict[tuple[Any, ...], dict[str, Any]]:
    table = sa.Table(route.target_table, sa.MetaData(), autoload_with=sink.engine)
    with sink.engine.connect() as conn:
        found = [dict(r._mapping) for r in conn.execute(sa.select(table))]
    key = [route.rename.get(k, k) for k in route.key]
    return {tuple(r[k] for k in key): r for r in found}


def test_a_batch_lands_once_and_its_redelivery_changes_nothing(sink: SqlSink) -> None:
    batch = [
        change("c", 10, after=person(1, "ann")),
        change("c", 11, after=person(2, "bob")),
        change("u", 12, before=person(1, "ann"), after=person(1, "ann b")),
        change("d", 13, before=person(2, "bob")),
        change("c", 14, after=person(3, "cy")),
    ]
    assert apply(sink, ROUTE, batch, 5) == 2  # ann and cy; bob is created and deleted in one batch
    assert apply(sink, ROUTE, batch, 5) == 0
    held = rows(sink, ROUTE)
    assert {k: (r["full_name"], r[LSN]) for k, r in held.items()} == {(1,): ("ann b", 12), (3,): ("cy", 14)}
    assert sink.stored_positions(ROUTE.route_name) == {("topic", 0): 5}


def test_an_older_change_than_the_sink_holds_is_ignored(sink: SqlSink) -> None:
    apply(sink, ROUTE, [change("c", 20, after=person(1, "new")), change("c", 21, after=person(2, "two"))])
    apply(sink, ROUTE, [change("d", 22, before=person(2, "two"))])
    # A replay of older changes: an update below the row's LSN, a create below the delete's tombstone.
    assert (
        apply(sink, ROUTE, [change("u", 15, after=person(1, "old")), change("c", 16, after=person(2, "two"))])
        == 0
    )
    assert {k: r["full_name"] for k, r in rows(sink, ROUTE).items()} == {(1,): "new"}
    # A newer create after the delete lands and clears the tombstone.
    assert apply(sink, ROUTE, [change("c", 30, after=person(2, "back"))]) == 1
    assert {k: r["full_name"] for k, r in rows(sink, ROUTE).items()} == {(1,): "new", (2,): "back"}


def test_a_truncate_is_a_barrier_inside_a_batch_and_across_batches(sink: SqlSink) -> None:
    batch = [
        change("c", 40, after=person(1, "gone")),
        change("c", 41, after=person(2, "gone too")),
        change("t", 42),
        change("c", 43, after=person(3, "stays")),
    ]
    assert apply(sink, ROUTE, batch) == 5  # 2 rows, the truncate's 2, then 1
    assert apply(sink, ROUTE, [change("c", 41, after=person(1, "before the truncate"))]) == 0
    assert {k: r["full_name"] for k, r in rows(sink, ROUTE).items()} == {(3,): "stays"}


def test_a_soft_delete_marks_the_row_and_a_later_create_revives_it(sink: SqlSink) -> None:
    apply(sink, SOFT, [change("c", 50, after=person(1, "ann")), change("c", 51, after=person(2, "bob"))])
    assert (
        apply(sink, SOFT, [change("d", 52, before=person(1, "ann")), change("d", 53, before=person(9, "x"))])
        == 1
    )
    held = rows(sink, SOFT)
    assert {k: (bool(r[DELETED]), r[LSN]) for k, r in held.items()} == {(1,): (True, 52), (2,): (False, 51)}
    assert apply(sink, SOFT, [change("c", 51, after=person(1, "stale"))]) == 0  # below the mark's LSN
    assert apply(sink, SOFT, [change("c", 54, after=person(1, "ann again"))]) == 1
    assert not rows(sink, SOFT)[(1,)][DELETED]


def test_composite_keys_and_batches_larger_than_one_statement(sink: SqlSink) -> None:
    first = [
        change("c", 100 + n, after=person(n, f"p{n}", region="eu" if n % 2 else "us")) for n in range(1200)
    ]
    assert apply(sink, COMPOSITE, first) == 1200
    second = [
        change("u", 2000 + n, before=person(n, f"p{n}", "eu"), after=person(n, f"p{n}!", "eu"))
        for n in range(1, 1200, 2)
    ] + [change("d", 4000 + n, before=person(n, f"p{n}", "us")) for n in range(0, 1200, 4)]
    assert apply(sink, COMPOSITE, second) == 600 + 300
    held = rows(sink, COMPOSITE)
    assert len(held) == 1200 - 300
    assert held[("eu", 7)]["full_name"] == "p7!"
    assert ("us", 4) not in held
    assert held[("us", 2)]["full_name"] == "p2"


def test_any_split_into_batches_with_redeliveries_ends_at_the_source_rows(sink: SqlSink) -> None:
    rng = random.Random(7)
    source: dict[int, dict[str, Any]] = {}
    events: list[ChangeEvent] = []
    for lsn in range(1000, 4000):
        pid = rng.randrange(60)
        roll = rng.random()
        if roll < 0.01:
            source.clear()
            events.append(change("t", lsn))
        elif pid in source and roll < 0.25:
            events.append(change("d", lsn, before=source.pop(pid)))
        elif pid in source:
            after = {**source[pid], "score": lsn}
            events.append(change("u", lsn, before=source[pid], after=after))
            source[pid] = after
        else:
            source[pid] = person(pid, f"n{pid}", score=lsn)
            events.append(change("c", lsn, after=source[pid]))
    cuts = sorted(rng.sample(range(1, len(events)), 80))
    batches = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    for n, batch in enumerate(batches):
        apply(sink, ROUTE, batch, n)
        if rng.random() < 0.3:  # a crash before the positions were read back: the batch comes again
            apply(sink, ROUTE, batch, n)
        if n > 3 and rng.random() < 0.1:  # a replay of an older batch
            apply(sink, ROUTE, batches[rng.randrange(n)], n)
    held = rows(sink, ROUTE)
    assert {k[0]: (r["full_name"], r["score"]) for k, r in held.items()} == {
        pid: (row["name"], row["score"]) for pid, row in source.items()
    }
