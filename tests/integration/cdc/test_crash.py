"""kill -9 of the Debezium source and of the router, at random moments during a mixed load: afterwards the
sink equals the source (row count and an order-independent checksum), nothing lost, nothing duplicated.

The row count is ``SPINE_TEST_CDC_CRASH_ROWS`` (default 20,000 so the test stays within a few minutes on a
2-core machine; the issue's 100,000 runs with ``SPINE_TEST_CDC_CRASH_ROWS=100000``).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from spine.auth import Role
from tests.integration.cdc.conftest import FINANCIAL_TO_US, MATRIX, CdcEnv, wait_for
from tests.integration.residency_gate.gate import Gate, start_gate

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = int(os.environ.get("SPINE_TEST_CDC_CRASH_ROWS", "20000"))
KILLS_EACH = 5
CHUNK = 250


@pytest.fixture
def open_gate(tmp_path: Path) -> Iterator[Gate]:
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(MATRIX.format(version="1", extra=FINANCIAL_TO_US))
    gate = start_gate(tmp_path / "gate-home", policy_file=matrix)
    try:
        yield gate
    finally:
        gate.stop()


def checksum(rows: list[tuple[object, ...]]) -> tuple[int, int]:
    total = 0
    for row in rows:
        digest = hashlib.sha256("|".join("" if v is None else str(v) for v in row).encode()).digest()
        total = (total + int.from_bytes(digest[:8], "big")) % 2**64
    return len(rows), total


def load(env: CdcEnv, done: threading.Event, seconds: float) -> None:
    rng = random.Random(11)
    live: list[int] = []
    next_id = 1
    chunks = ROWS // CHUNK
    pause = seconds / max(chunks, 1)
    with psycopg.connect(env.server.dsn(env.db), autocommit=False) as conn:
        for _ in range(chunks):
            with conn.cursor() as cur:
                ids = list(range(next_id, next_id + CHUNK))
                next_id += CHUNK
                cur.executemany(
                    "INSERT INTO payments VALUES (%s, %s, %s, %s)",
                    [(i, i % 97, f"{i % 1000}.{i % 100:02d}", f"card-{i}") for i in ids],
                )
                live.extend(ids)
                for i in rng.sample(live, CHUNK // 2):
                    cur.execute(
                        "UPDATE payments SET amount = amount + 1, card = %s WHERE id = %s", (f"u{i}", i)
                    )
                for i in rng.sample(live, CHUNK // 5):
                    cur.execute("DELETE FROM payments WHERE id = %s", (i,))
                    live.remove(i)
            conn.commit()
            time.sleep(pause)
    done.set()


def test_kill_9_of_source_and_router_during_a_mixed_load_neither_loses_nor_duplicates(
    cdc_env: CdcEnv, open_gate: Gate
) -> None:
    router_env = {"SPINE_CDC_RESIDENCY_URL": open_gate.url, "SPINE_TOKEN": open_gate.tokens[Role.CONSUMER]}
    procs: dict[str, subprocess.Popen[bytes]] = {
        "source": cdc_env.start("cdc.source", "source.log"),
        "router": cdc_env.start("cdc.router", "router.log", router_env),
    }
    cdc_env.wait_streaming()
    done = threading.Event()
    loader = threading.Thread(target=load, args=(cdc_env, done, 60.0), daemon=True)
    loader.start()
    rng = random.Random(7)
    kills = {"source": 0, "router": 0}
    while kills["source"] < KILLS_EACH or kills["router"] < KILLS_EACH:
        time.sleep(rng.uniform(2.0, 6.0))
        victim = rng.choice([k for k, n in kills.items() if n < KILLS_EACH])
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait()
        kills[victim] += 1
        module = f"cdc.{victim}"
        procs[victim] = cdc_env.start(module, f"{victim}.log", router_env if victim == "router" else None)
        if victim == "source":
            cdc_env.wait_streaming()
    loader.join(600)
    assert done.is_set()

    source_rows = cdc_env.query("SELECT id, customer_id, amount::text, card FROM payments")
    expected = checksum(source_rows)
    engine = sa.create_engine(cdc_env.sink_url)

    def sink() -> tuple[int, int]:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, customer_id, amount, card FROM payments")).fetchall()
        return checksum([tuple(r) for r in rows])

    logs = lambda: cdc_env.log("router.log")[-2000:] + cdc_env.log("source.log")[-2000:]  # noqa: E731
    try:
        wait_for(lambda: sink() == expected, 240, f"sink == source ({expected[0]} rows)", logs)
        with engine.connect() as conn:
            keys = conn.execute(sa.text("SELECT count(*), count(DISTINCT id) FROM payments")).one()
    finally:
        engine.dispose()
    assert keys[0] == keys[1] == expected[0]
    assert all(p.poll() is None for p in procs.values()), "a restarted process died"
