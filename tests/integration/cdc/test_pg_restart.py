"""A PostgreSQL restart mid-stream: Debezium resumes from its slot and the sink ends equal to the source,
without loss or duplicates (real PostgreSQL restarted with pg_ctl, real Debezium, broker and gate)."""

from __future__ import annotations

import subprocess
import time

import psycopg
import pytest

from cdc.throwaway import as_postgres
from tests.fixtures.postgres import postgres_bin_dir
from tests.integration.cdc.conftest import CdcEnv, wait_for
from tests.integration.cdc.test_router import cdc_gate, sink_rows, start_pipeline
from tests.integration.residency_gate.gate import Gate

pytestmark = pytest.mark.integration
__all__ = ["cdc_gate"]  # the fixture, imported for this module's test


def restart_postgres(env: CdcEnv) -> None:
    pg_ctl = str(postgres_bin_dir() / "pg_ctl")
    log = env.server.data_dir.parent / "server.log"
    cmd = [pg_ctl, "-D", str(env.server.data_dir), "-l", str(log), "-m", "fast", "-w", "-t", "60", "restart"]
    # No pipes: the restarted server would hold them open (and run() would wait for it to exit).
    subprocess.run(as_postgres(cmd), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(env.server.dsn(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_postgres_restart_mid_stream_resumes_without_loss_or_duplicates(
    cdc_env: CdcEnv, cdc_gate: Gate
) -> None:
    start_pipeline(cdc_env, cdc_gate)
    logs = lambda: cdc_env.log("source.log")[-2000:] + cdc_env.log("router.log")[-1500:]  # noqa: E731
    for i in range(1, 51):
        cdc_env.sql("INSERT INTO customers VALUES (%s, %s, %s, 'FR', 1)", (i, f"n{i}", f"{i}@example.org"))
    wait_for(lambda: len(sink_rows(cdc_env, "customers")) == 50, 90, "the rows before the restart", logs)
    started = cdc_env.query("SELECT pg_postmaster_start_time()")
    restart_postgres(cdc_env)
    assert cdc_env.query("SELECT pg_postmaster_start_time()") != started  # really restarted
    for i in range(51, 101):
        cdc_env.sql("INSERT INTO customers VALUES (%s, %s, %s, 'FR', 1)", (i, f"n{i}", f"{i}@example.org"))
    cdc_env.sql("UPDATE customers SET country = 'DE' WHERE id <= 10")
    cdc_env.sql("DELETE FROM customers WHERE id > 95")

    source = cdc_env.query("SELECT id, country FROM customers ORDER BY id")

    restarts = []

    def caught_up() -> bool:
        if cdc_env.children[0].poll() is not None:  # the supervisor's part: start a Debezium that exited
            restarts.append(cdc_env.children[0].returncode)
            cdc_env.children[0] = cdc_env.start("cdc.source", "source.log")
            cdc_env.children.pop()  # start() appended it too
        return [(r["id"], r["country"]) for r in sink_rows(cdc_env, "customers")] == source

    wait_for(caught_up, 180, "the sink equal to the source after the restart", logs)
    assert len(source) == 95
    print(f"Debezium exit codes after the restart (restarted as its supervisor would): {restarts}")
