"""Schema registry latency: read-by-id and register-with-check, at saturation and at a stated offered load.

Starts ``python -m registry`` (SQLite) in a subprocess with a fresh $SPINE_HOME, seeds one subject with
``--seed`` versions (default 1,000), each a structural change (a new optional field, the previous one
dropped) so every publish is really checked under ``--level`` (default BACKWARD; a _TRANSITIVE level checks
every earlier version). Then it measures:

- one client, closed loop: latency without queueing;
- saturation: ``--clients`` closed-loop clients (default 50). Each sends its next request as soon as the
  previous one answers, so the latency measured is mostly queueing: by Little's law the mean latency is
  about clients / throughput. On a 2-core machine the load generator shares the CPUs with the server;
- offered load: the same ``--clients`` connections issue requests open-loop at a fixed total rate
  (``--read-rate``, ``--publish-rate``). Latency runs from each request's *scheduled* send time, so a
  server that falls behind is charged for the wait (no coordinated omission).

The load generator speaks HTTP/1.1 keep-alive over raw asyncio streams (cheap per request); its CPU use and
the server's are printed for every run. The goals (read p99 <= 10 ms, publish p95 <= 20 ms with >= 1,000
versions in the subject; the seed's SLO is p95 < 50 ms) are judged at the stated offered load, and the
saturation figures are printed beside them.

    python bench/registry.py [--clients 50] [--seed 1000] [--read-rate 500] [--publish-rate 50]

With ``--schemas N`` it measures a big registry instead: it seeds N distinct Avro schemas (ten versions per
subject, through the API, printing the rate), restarts the registry on that database (start-up time and
RSS are printed), and reads ``GET /schemas/ids/{id}`` with ``--clients`` keep-alive clients in interleaved
rounds of two patterns: a hot set of ``--hot`` ids and uniform over all N. The goal is uniform / hot
throughput >= 0.8 and start-up <= 10 s.

    python bench/registry.py --schemas 100000 [--hot 1000] [--rounds 3] [--round-reads 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from spine.auth import Role, TokenStore
from spine.broker import free_port
from spine.runtime.health import wait_http_ready

GOALS_MS = {"read_p99": 10.0, "publish_p95": 20.0, "slo_p95": 50.0}
SUBJECT = "bench.orders-value"
KARAPACE_NOTE = (
    "Karapace not measured: `pip download karapace` finds no distribution on this machine's package "
    'index ("from versions: none"), so it cannot be installed here; ratios are to the goals only.'
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

Request = tuple[bytes, bytes, bytes]  # method, path, body
MakeRequest = Callable[[int], Request]


def schema_text(n: int) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "bench",
            "doc": f"Order, revision {n}.",
            "fields": [
                {"name": "id", "type": "string", "doc": "Id."},
                {"name": "note", "type": ["null", "string"], "default": None, "doc": "Note."},
                {"name": f"extra{n}", "type": ["null", "string"], "default": None, "doc": "Extra."},
            ],
        }
    )


def wait_live(url: str, timeout: float, proc: subprocess.Popen[bytes]) -> bool:
    """Until /health/live answers: the registry warms its cache before it accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    return False


def start_registry(home: Path, port: int, *, live: bool = False) -> subprocess.Popen[bytes]:
    """Started and ready (or only live: without Kafka, a big seed leaves the outbox degraded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env |= {"SPINE_HOME": str(home), "SPINE_REGISTRY_PORT": str(port), "SPINE_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "registry"], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if wait_live(url, 60, proc) if live else wait_http_ready(url, 30, proc):
        return proc
    if proc.poll() is not None:
        raise SystemExit(f"registry exited with {proc.returncode} (port {port} taken?)")
    proc.terminate()
    raise SystemExit("registry did not start")


def seed(url: str, token: str, admin: str, count: int, level: str) -> list[int]:
    ids = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        http.put(
            f"/config/{SUBJECT}",
            json={"compatibility": level},
            headers={"Authorization": f"Bearer {admin}"},
        ).raise_for_status()
        for n in range(count):
            response = http.post(f"/subjects/{SUBJECT}/versions", json={"schema": schema_text(n)})
            response.raise_for_status()
            ids.append(int(response.json()["id"]))
    return ids


def wide_schema(n: int) -> str:
    """A distinct, typical record of about 1 KiB: ten documented fields, some optional."""
    fields: list[dict[str, object]] = [{"name": "id", "type": "string", "doc": "Identifier of the entity."}]
    for k in range(9):
        kind: object = ["null", "string"] if k % 3 else "long"
        item: dict[str, object] = {"name": f"attr{k}", "type": kind, "doc": f"Attribute {k} of it."}
        if k % 3:  # optional fields change name between versions, so each version is a compatible change
            item |= {"name": f"attr{k}_{n % 10}", "default": None}
        fields.append(item)
    return json.dumps(
        {
            "type": "record",
            "name": f"Entity{n // 10}",
            "namespace": "bench.big",
            "doc": f"An entity of the big-registry benchmark, revision {n}.",
            "fields": fields,
        }
    )


def seed_many(url: str, token: str, count: int, clients: int) -> list[int]:
    """``count`` distinct schemas, ten versions per subject, over ``clients`` connections."""
    host, port = url.removeprefix("http://").split(":")
    ids: list[int] = [0] * count
    progress = {"done": 0}

    async def worker(conn: Connection, subjects: Any) -> None:
        for subject in subjects:
            for n in range(subject * 10, min(count, subject * 10 + 10)):
                body = json.dumps({"schema": wide_schema(n)}).encode()
                path = f"/subjects/bench.big{subject}-value/versions".encode()
                status, answer = await conn.exchange((b"POST", path, body))
                if status != 200:
                    raise SystemExit(f"seeding failed with {status}: {answer[:200]!r}")
                ids[n] = int(json.loads(answer)["id"])
                progress["done"] += 1
                if progress["done"] % 10000 == 0:
                    print(f"  seeded {progress['done']} schemas", file=sys.stderr, flush=True)

    async def everyone() -> None:
        conns = [Connection(host, int(port), token) for _ in range(clients)]
        shared = iter(range((count + 9) // 10))
        try:
            await asyncio.gather(*(worker(conn, shared) for conn in conns))
        finally:
            for conn in conns:
                conn.close()

    asyncio.run(everyone())
    return ids


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def metric_value(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Connection:
    """One HTTP/1.1 keep-alive connection; responses must carry Content-Length (uvicorn's do)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: Request) -> int:
        return (await self.exchange(request))[0]

    async def exchange(self, request: Request) -> tuple[int, bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        method, path, body = request
        extra = b"Content-Type: application/json\r\n" if body else b""
        self.writer.write(
            b"%s %s HTTP/1.1\r\n%s%sContent-Length: %d\r\n\r\n%s"
            % (method, path, self.head, extra, len(body), body)
        )
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Run:
    """One measured run: latency percentiles, achieved throughput, errors and CPU use of both sides."""

    mode: str
    clients: int
    offered_rps: float | None
    count: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    client_cpu_pct: float
    server_cpu_pct: float


def measure(
    url: str, token: str, server_pid: int, make: MakeRequest, *, clients: int, total: int, rate: float | None
) -> Run:
    """``total`` requests over ``clients`` connections: closed loop if ``rate`` is None, else open loop."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0

    async def closed(conn: Connection, numbers: Any) -> None:
        nonlocal errors
        for n in numbers:
            start = time.perf_counter()
            errors += await conn.send(make(n)) != 200
            latencies.append((time.perf_counter() - start) * 1000)

    async def opened(conn: Connection, first: int, t0: float) -> None:
        nonlocal errors
        assert rate is not None
        for n in range(first, total, clients):
            scheduled = t0 + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            errors += await conn.send(make(n)) != 200
            latencies.append((time.perf_counter() - scheduled) * 1000)

    async def everyone() -> float:
        conns = [Connection(host, int(port), token) for _ in range(clients)]
        try:
            t0 = time.perf_counter() + 0.05
            if rate is None:
                shared = iter(range(total))
                jobs = [closed(conn, shared) for conn in conns]
            else:
                jobs = [opened(conn, k, t0) for k, conn in enumerate(conns)]
            start = time.perf_counter()
            await asyncio.gather(*jobs)
            return time.perf_counter() - (t0 if rate is not None else start)
        finally:
            for conn in conns:
                conn.close()

    client_cpu, server_cpu = time.process_time(), cpu_seconds(server_pid)
    elapsed = asyncio.run(everyone())
    client_cpu, server_cpu = time.process_time() - client_cpu, cpu_seconds(server_pid) - server_cpu
    cuts = statistics.quantiles(latencies, n=100)
    return Run(
        mode="closed" if rate is None else "open",
        clients=clients,
        offered_rps=rate,
        count=len(latencies),
        rps=round(len(latencies) / elapsed, 1),
        p50_ms=round(cuts[49], 2),
        p95_ms=round(cuts[94], 2),
        p99_ms=round(cuts[98], 2),
        max_ms=round(max(latencies), 2),
        errors=errors,
        client_cpu_pct=round(100 * client_cpu / elapsed, 1),
        server_cpu_pct=round(100 * server_cpu / elapsed, 1),
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="spine-bench-registry-"))
    store = TokenStore(home / "auth" / "tokens.json")
    token, admin = store.issue(Role.PRODUCER), store.issue(Role.ADMIN)
    port = free_port()
    proc = start_registry(home, port)
    url = f"http://127.0.0.1:{port}"
    published = iter(range(args.seed, 10**9))
    runs: dict[str, Run] = {}
    try:
        started = time.perf_counter()
        ids = seed(url, token, admin, args.seed, args.level)
        seed_s = time.perf_counter() - started

        def read(n: int) -> Request:
            return b"GET", b"/schemas/ids/%d" % random.choice(ids), b""

        def publish(n: int) -> Request:
            body = json.dumps({"schema": schema_text(next(published))}).encode()
            return b"POST", f"/subjects/{SUBJECT}/versions".encode(), body

        def go(name: str, make: MakeRequest, clients: int, total: int, rate: float | None = None) -> None:
            runs[name] = measure(url, token, proc.pid, make, clients=clients, total=total, rate=rate)

        go("read x1 closed", read, 1, min(args.reads, 2000))
        go("publish x1 closed", publish, 1, min(args.publishes, 300))
        go(f"read x{args.clients} saturation", read, args.clients, args.reads)
        go(f"publish x{args.clients} saturation", publish, args.clients, args.publishes)
        go(
            f"read x{args.clients} @{args.read_rate:g}/s",
            read,
            args.clients,
            int(args.read_rate * args.duration),
            args.read_rate,
        )
        go(
            f"publish x{args.clients} @{args.publish_rate:g}/s",
            publish,
            args.clients,
            int(args.publish_rate * args.duration),
            args.publish_rate,
        )
        versions = len(httpx.get(f"{url}/subjects/{SUBJECT}/versions").json())
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        "clients": args.clients,
        "level": args.level,
        "versions_seeded": args.seed,
        "versions_at_end": versions,
        "seed_rps": round(args.seed / seed_s, 1),
        "runs": {name: asdict(r) for name, r in runs.items()},
        "goals": goals(runs, args),
        "karapace": KARAPACE_NOTE,
    }


def run_big(args: argparse.Namespace) -> dict[str, Any]:
    """Seed ``--schemas`` schemas, restart on that database, then interleave hot and uniform read rounds."""
    home = args.home or Path(tempfile.mkdtemp(prefix="spine-bench-registry-big-"))
    token = TokenStore(home / "auth" / "tokens.json").issue(Role.PRODUCER)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    seeded = args.home is not None and (home / "registry" / "registry.db").is_file()
    seed_s: float | None = None  # None: the home was seeded by an earlier run and reused
    if seeded:
        ids = list(range(1, args.schemas + 1))  # a reused home seeded by this script: ids 1..N
    else:
        proc = start_registry(home, port)
        try:
            started = time.perf_counter()
            ids = seed_many(url, token, args.schemas, args.seed_clients)
            seed_s = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(30)
    db_bytes = sum(f.stat().st_size for f in (home / "registry").glob("registry.db*"))
    spawned = time.perf_counter()
    proc = start_registry(home, port, live=True)
    startup_s = time.perf_counter() - spawned
    rng = random.Random(14)
    hot = rng.sample(ids, min(args.hot, len(ids)))
    patterns: dict[str, list[int]] = {"hot": hot, "uniform": ids}
    rounds: dict[str, list[Run]] = {name: [] for name in patterns}
    try:
        warm = {
            "startup_s_reported": metric_value(url, "spine_registry_startup_seconds"),
            "warm_s": metric_value(url, "spine_registry_cache_warm_seconds"),
            "warmed_schemas": metric_value(url, "spine_registry_cache_warmed_schemas"),
            "rss_at_start": rss_bytes(proc.pid),
        }
        for _ in range(args.rounds):
            for name, pool in patterns.items():

                def read(n: int, pool: list[int] = pool) -> Request:
                    return b"GET", b"/schemas/ids/%d" % rng.choice(pool), b""

                rounds[name].append(
                    measure(
                        url, token, proc.pid, read, clients=args.clients, total=args.round_reads, rate=None
                    )
                )
        cache = {
            name: metric_value(url, f"spine_registry_cache_{name}")
            for name in ("entries", "bytes", "max_bytes", "hit_ratio", "misses")
        }
        rss_end = rss_bytes(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    summary = {name: summarise(runs) for name, runs in rounds.items()}
    return {
        "schemas": args.schemas,
        "clients": args.clients,
        "hot_ids": len(hot),
        "seed_rps": None if seed_s is None else round(args.schemas / seed_s, 1),
        "seed_s": None if seed_s is None else round(seed_s, 1),
        "database_mib": round(db_bytes / 2**20, 1),
        "startup_s": round(startup_s, 2),
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in warm.items()},
        "rss_mib_at_start": round(warm["rss_at_start"] / 2**20, 1),
        "rss_mib_at_end": round(rss_end / 2**20, 1),
        "cache": cache,
        "patterns": summary,
        "ratio_uniform_to_hot": round(summary["uniform"]["rps"] / summary["hot"]["rps"], 3),
        "rounds": {name: [asdict(r) for r in runs] for name, runs in rounds.items()},
    }


def summarise(runs: list[Run]) -> dict[str, float]:
    """Throughput over all rounds together; p50/p99 as the median of the rounds' figures."""
    count = sum(r.count for r in runs)
    elapsed = sum(r.count / r.rps for r in runs)
    return {
        "rps": round(count / elapsed, 1),
        "p50_ms": round(statistics.median(r.p50_ms for r in runs), 2),
        "p99_ms": round(statistics.median(r.p99_ms for r in runs), 2),
        "errors": sum(r.errors for r in runs),
        "server_cpu_pct": round(statistics.mean(r.server_cpu_pct for r in runs), 1),
    }


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def report_big(result: dict[str, Any]) -> None:
    print(
        f"registry (SQLite, one process) holding {result['schemas']} distinct Avro schemas "
        f"({result['database_mib']} MiB database), {result['clients']} keep-alive clients"
    )
    if result["seed_s"] is None:
        print("  seeding: skipped (the --home given was seeded by an earlier run)")
    else:
        print(f"  seeding: {result['seed_rps']} schemas/s through the API ({result['seed_s']} s)")
    print(
        f"  start-up on the full database: {result['startup_s']} s to ready (app reports "
        f"{result['startup_s_reported']} s, of which warming {result['warm_s']} s for "
        f"{result['warmed_schemas']:.0f} schemas); goal <= 10 s: {verdict(result['startup_s'] <= 10)}"
    )
    print(
        f"  RSS: {result['rss_mib_at_start']} MiB after start, {result['rss_mib_at_end']} MiB after the reads"
    )
    cache = result["cache"]
    print(
        f"  cache: {cache['entries']:.0f} entries, {cache['bytes'] / 2**20:.1f} of "
        f"{cache['max_bytes'] / 2**20:.0f} MiB, hit ratio {cache['hit_ratio']:.4f} "
        f"({cache['misses']:.0f} misses)"
    )
    print(f"  {'pattern':30} {'req/s':>9} {'p50':>8} {'p99':>8} {'err':>4} {'cpu srv':>8}")
    for name, label in (("hot", f"hot set of {result['hot_ids']} ids"), ("uniform", "uniform over all")):
        r = result["patterns"][name]
        print(
            f"  {label:30} {r['rps']:9.1f} {r['p50_ms']:6.2f}ms {r['p99_ms']:6.2f}ms {r['errors']:4d} "
            f"{r['server_cpu_pct']:7.1f}%"
        )
    for name, runs in result["rounds"].items():
        print(f"    rounds {name:8} " + "  ".join(f"{r['rps']:.0f}/s p99 {r['p99_ms']:.1f}ms" for r in runs))
    ratio = result["ratio_uniform_to_hot"]
    print(f"  ratio uniform / hot: {ratio:.3f}; goal >= 0.8: {verdict(ratio >= 0.8)}")


def goals(runs: dict[str, Run], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each goal against the offered-load run (the goal) and the saturation run (for information)."""
    c = args.clients
    checks = [
        ("read p99 <= 10 ms", f"read x{c} @{args.read_rate:g}/s", "p99_ms", GOALS_MS["read_p99"]),
        ("publish p95 <= 20 ms", f"publish x{c} @{args.publish_rate:g}/s", "p95_ms", GOALS_MS["publish_p95"]),
        (
            "publish p95 < 50 ms (seed SLO)",
            f"publish x{c} @{args.publish_rate:g}/s",
            "p95_ms",
            GOALS_MS["slo_p95"],
        ),
        ("read p99 <= 10 ms", f"read x{c} saturation", "p99_ms", GOALS_MS["read_p99"]),
        ("publish p95 <= 20 ms", f"publish x{c} saturation", "p95_ms", GOALS_MS["publish_p95"]),
        ("publish p95 < 50 ms (seed SLO)", f"publish x{c} saturation", "p95_ms", GOALS_MS["slo_p95"]),
    ]
    out = []
    for goal, run_name, figure, limit in checks:
        value = float(getattr(runs[run_name], figure))
        out.append(
            {
                "goal": goal,
                "run": run_name,
                "value_ms": value,
                "ratio": round(value / limit, 2),
                "met": value <= limit,
            }
        )
    return out


def report(result: dict[str, Any]) -> None:
    print(
        f"registry (SQLite, one process), {result['clients']} clients, {result['level']}; "
        f"subject seeded with {result['versions_seeded']} versions at {result['seed_rps']} publishes/s, "
        f"{result['versions_at_end']} at the end"
    )
    print(
        f"  {'run':34} {'offered':>8} {'achieved':>9} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} "
        f"{'err':>4} {'cpu srv':>8} {'cpu gen':>8}"
    )
    for name, r in result["runs"].items():
        offered = f"{r['offered_rps']:g}/s" if r["offered_rps"] else "-"
        print(
            f"  {name:34} {offered:>8} {r['rps']:7.1f}/s {r['p50_ms']:6.2f}ms {r['p95_ms']:6.2f}ms "
            f"{r['p99_ms']:6.2f}ms {r['max_ms']:6.1f}ms {r['errors']:4d} {r['server_cpu_pct']:7.1f}% "
            f"{r['client_cpu_pct']:7.1f}%"
        )
        if r["mode"] == "closed" and r["clients"] > 1:
            print(
                f"  {'':34} Little's law: {r['clients']} clients / {r['rps']:.0f} req/s = "
                f"{1000 * r['clients'] / r['rps']:.1f} ms mean latency, mostly queueing"
            )
    print("  goals (ratio = measured / goal; <= 1.00 meets it):")
    for g in result["goals"]:
        verdict = "MET" if g["met"] else "NOT MET"
        print(f"    {g['goal']:32} {g['run']:34} {g['value_ms']:7.2f} ms  ratio {g['ratio']:5.2f}  {verdict}")
    print(f"  {result['karapace']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=20000, help="requests in the read saturation run")
    parser.add_argument("--publishes", type=int, default=2000, help="requests in the publish saturation run")
    parser.add_argument("--read-rate", type=float, default=500.0, help="offered reads per second")
    parser.add_argument("--publish-rate", type=float, default=50.0, help="offered publishes per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each offered-load run")
    parser.add_argument(
        "--level", default="BACKWARD", help="the subject's compatibility level (e.g. BACKWARD_TRANSITIVE)"
    )
    parser.add_argument("--schemas", type=int, default=0, help="measure a registry of this many schemas")
    parser.add_argument("--hot", type=int, default=1000, help="ids in the hot set (with --schemas)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds per pattern (with --schemas)"
    )
    parser.add_argument("--round-reads", type=int, default=20000, help="reads per round (with --schemas)")
    parser.add_argument(
        "--home", type=Path, default=None, help="keep (or reuse, skipping the seed) the big registry's home"
    )
    parser.add_argument("--seed-clients", type=int, default=4, help="publishing connections while seeding")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    big = args.schemas > 0
    result = run_big(args) if big else run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    elif big:
        report_big(result)
    else:
        report(result)


if __name__ == "__main__":
    main()
