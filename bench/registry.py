"""Schema registry latency: read-by-id and register-with-check under concurrent clients.

Starts ``python -m registry`` (SQLite) in a subprocess with a fresh $SPINE_HOME, seeds one subject with
``--seed`` versions (default 1,000), then runs ``--clients`` closed-loop clients (asyncio tasks, default
50), each with its own HTTP connection, per workload, and the same workload with one client (latency
without queueing). Prints p50/p95/p99 and requests/s, and the ratio to each goal (read p99 <= 10 ms,
publish p95 <= 20 ms, the seed SLO p95 < 50 ms; a ratio <= 1.0 meets the goal).

    python bench/registry.py [--clients 50] [--seed 1000] [--reads 20000] [--publishes 2000]
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from spine.auth import Role, TokenStore
from spine.broker import free_port

GOALS_MS = {"read_p99": 10.0, "publish_p95": 20.0, "slo_p95": 50.0}
SUBJECT = "bench.orders-value"
KARAPACE_NOTE = (
    "Karapace not measured: `pip download karapace` finds no distribution on this machine's package "
    'index ("from versions: none"), so it cannot be installed here; ratios are to the goals only.'
)


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
            ],
        }
    )


def start_registry(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env |= {"SPINE_HOME": str(home), "SPINE_REGISTRY_PORT": str(port), "SPINE_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "registry"], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("registry did not start")


def seed(url: str, token: str, count: int) -> list[int]:
    ids = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        for n in range(count):
            response = http.post(f"/subjects/{SUBJECT}/versions", json={"schema": schema_text(n)})
            response.raise_for_status()
            ids.append(int(response.json()["id"]))
    return ids


def run_clients(
    url: str,
    token: str,
    clients: int,
    total: int,
    request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
) -> tuple[list[float], float, int]:
    """``clients`` closed-loop clients (asyncio tasks, one connection each) share ``total`` calls."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def client() -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
            for n in counter:
                start = time.perf_counter()
                response = await request(http, n)
                latencies.append((time.perf_counter() - start) * 1000)
                errors += response.status_code != 200

    async def everyone() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return time.perf_counter() - start

    elapsed = asyncio.run(everyone())
    return latencies, elapsed, errors


def summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": round(cuts[49], 2),
        "p95_ms": round(cuts[94], 2),
        "p99_ms": round(cuts[98], 2),
        "rps": round(len(latencies) / elapsed, 1),
        "errors": errors,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="spine-bench-registry-"))
    token = TokenStore(home / "auth" / "tokens.json").issue(Role.PRODUCER)
    port = free_port()
    proc = start_registry(home, port)
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        ids = seed(url, token, args.seed)
        seed_s = time.perf_counter() - started

        def read(http: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
            return http.get(f"/schemas/ids/{random.choice(ids)}")

        def publish(http: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
            return http.post(f"/subjects/{SUBJECT}/versions", json={"schema": schema_text(args.seed + n)})

        single_read = summary(*run_clients(url, token, 1, min(args.reads, 1000), read))
        single_publish = summary(*run_clients(url, token, 1, min(args.publishes, 200), publish))
        offset = min(args.publishes, 200)

        def publish_more(http: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
            return publish(http, n + offset)

        reads = summary(*run_clients(url, token, args.clients, args.reads, read))
        publishes = summary(*run_clients(url, token, args.clients, args.publishes, publish_more))
    finally:
        proc.terminate()
        proc.wait(10)
    return {
        "clients": args.clients,
        "versions_before_publish": args.seed,
        "seed_rps": round(args.seed / seed_s, 1),
        "read_by_id": reads,
        "register_with_check": publishes,
        "one_client": {"read_by_id": single_read, "register_with_check": single_publish},
        "ratios_to_goal": {
            "read_p99 / 10ms": round(reads["p99_ms"] / GOALS_MS["read_p99"], 2),
            "publish_p95 / 20ms": round(publishes["p95_ms"] / GOALS_MS["publish_p95"], 2),
            "publish_p95 / seed SLO 50ms": round(publishes["p95_ms"] / GOALS_MS["slo_p95"], 2),
            "read_p95 / seed SLO 50ms": round(reads["p95_ms"] / GOALS_MS["slo_p95"], 2),
            "one client: read_p99 / 10ms": round(single_read["p99_ms"] / GOALS_MS["read_p99"], 2),
            "one client: publish_p95 / 20ms": round(single_publish["p95_ms"] / GOALS_MS["publish_p95"], 2),
        },
        "karapace": KARAPACE_NOTE,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=20000)
    parser.add_argument("--publishes", type=int, default=2000)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"registry, SQLite, {result['clients']} clients, {result['versions_before_publish']} versions seeded"
    )
    rows = [(f"{n} x{result['clients']}", result[n]) for n in ("read_by_id", "register_with_check")]
    rows += [(f"{n} x1", r) for n, r in result["one_client"].items()]
    for name, r in rows:
        print(
            f"  {name:24} p50 {r['p50_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
            f"{r['rps']:8.1f} req/s  errors {r['errors']}"
        )
    for label, ratio in result["ratios_to_goal"].items():
        print(f"  {label:30} {ratio:5.2f} ({'meets' if ratio <= 1.0 else 'misses'} the goal)")
    print(f"  {result['karapace']}")


if __name__ == "__main__":
    main()
