"""Residency gate: decisions per second and latency, in process and through the HTTP batch endpoint.

In process: ``evaluate()`` over every dataset x destination (regions and sinks) x field-tag set of the example
matrix (goal p99 ≤ 100 µs and ≥ 50,000 decisions/s), against a baseline measured in the same run (a dict
lookup per route, the floor of any evaluator). Over HTTP: ``python -m residency_gate`` in a subprocess on
SQLite, batches to ``POST /v1/evaluate`` (every decision audited), against the round trip of
``GET /health/live`` in the same run. Prints the seed SLO (99% of evaluations within 30 s) as a ratio.

    python bench/residency.py [--decisions 200000] [--batches 200] [--batch-size 100] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from residency_gate.evaluate import FieldTag, Route, evaluate
from residency_gate.policy import Policy, load_policy_file
from residency_gate.wire import route_to_dict
from spine.auth import Role, TokenStore
from spine.broker import free_port
from spine.runtime.health import wait_http_ready

ROOT = Path(__file__).resolve().parents[1]
MATRIX = ROOT / "examples" / "residency" / "matrix.yaml"
SLO_SECONDS = 30.0
SLO_SHARE = 0.99
FIELD_SETS: tuple[tuple[FieldTag, ...], ...] = (
    (),
    (FieldTag("id", ()), FieldTag("email", ("PII.email",))),
    (FieldTag("phone", ("PII.phone",)), FieldTag("card", ("PII.financial",))),
)


def routes_for(policy: Policy) -> list[Route]:
    """Every dataset to every region and every sink, with three field-tag sets, for purpose none/fraud."""
    targets: list[tuple[str | None, str | None]] = [(r, None) for r in sorted(policy.regions)]
    targets += [(None, s) for s in sorted(policy.sinks)]
    return [
        Route(dataset, region, sink, purpose=purpose, fields=fields)
        for dataset in sorted(policy.datasets)
        for region, sink in targets
        for fields in FIELD_SETS
        for purpose in (None, "fraud-detection")
    ]


def percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values)) - 1))
    return sorted_values[index]


def in_process(policy: Policy, routes: list[Route], count: int) -> dict[str, float]:
    stream = list(itertools.islice(itertools.cycle(routes), count))
    clock = time.perf_counter_ns
    for route in routes:
        evaluate(policy, route)
    samples: list[float] = []
    start = time.perf_counter()
    for route in stream:
        t0 = clock()
        evaluate(policy, route)
        samples.append((clock() - t0) / 1000.0)
    elapsed = time.perf_counter() - start
    baseline_table = {r.dataset: r for r in routes}
    t1 = time.perf_counter()
    for route in stream:
        baseline_table.get(route.dataset)
    baseline = time.perf_counter() - t1
    samples.sort()
    return {
        "decisions": count,
        "distinct_routes": len(routes),
        "per_second": count / elapsed,
        "p50_us": percentile(samples, 0.50),
        "p99_us": percentile(samples, 0.99),
        "max_us": samples[-1],
        "baseline_lookups_per_second": count / baseline,
    }


def start_gate(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(
        SPINE_HOME=str(home),
        SPINE_RESIDENCY_PORT=str(port),
        SPINE_RESIDENCY_POLICY_FILE=str(MATRIX),
        SPINE_LOG_LEVEL="WARNING",
    )
    log = (home / "gate.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "residency_gate"], env=env, stdout=log, stderr=log)
    log.close()
    if wait_http_ready(f"http://127.0.0.1:{port}", 60, process):
        return process
    if process.poll() is not None:
        raise SystemExit(f"the gate exited with {process.returncode}; see {home / 'gate.log'}")
    process.kill()
    raise SystemExit("the gate did not become ready in 60 s")


def over_http(routes: list[Route], batches: int, batch_size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-residency-") as tmp:
        home = Path(tmp)
        port = free_port()
        process = start_gate(home, port)
        token = TokenStore(home / "auth" / "tokens.json").issue(Role.PRODUCER, "bench")
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client:
                bodies = [
                    {
                        "routes": [
                            route_to_dict(r)
                            for r in itertools.islice(itertools.cycle(routes), i, i + batch_size)
                        ]
                    }
                    for i in range(0, batches * batch_size, batch_size)
                ]
                client.post("/v1/evaluate", json=bodies[0]).raise_for_status()
                health: list[float] = []
                for _ in range(200):
                    t0 = time.perf_counter()
                    client.get("/health/live").raise_for_status()
                    health.append(time.perf_counter() - t0)
                latencies: list[float] = []
                start = time.perf_counter()
                for body in bodies:
                    t0 = time.perf_counter()
                    response = client.post("/v1/evaluate", json=body)
                    response.raise_for_status()
                    latencies.append(time.perf_counter() - t0)
                elapsed = time.perf_counter() - start
        finally:
            process.terminate()
            process.wait(30)
    latencies.sort()
    decisions = batches * batch_size
    within = sum(1 for latency in latencies if latency <= SLO_SECONDS) / len(latencies)
    return {
        "decisions": decisions,
        "batch_size": batch_size,
        "per_second": decisions / elapsed,
        "batch_p50_ms": percentile(latencies, 0.50) * 1000,
        "batch_p99_ms": percentile(latencies, 0.99) * 1000,
        "health_p50_ms": statistics.median(health) * 1000,
        "slo_within_30s": within,
    }


def report(result: dict[str, Any]) -> None:
    local, http = result["in_process"], result["http"]
    print(f"in process over {local['distinct_routes']} distinct routes of the example matrix:")
    print(
        f"  {local['per_second']:>12,.0f} decisions/s   (goal ≥ 50,000: {local['per_second'] / 50_000:.2f}x)"
    )
    print(
        f"  p50 {local['p50_us']:.1f} µs   p99 {local['p99_us']:.1f} µs   (goal p99 ≤ 100 µs: "
        f"{100 / local['p99_us']:.2f}x headroom)   max {local['max_us']:.0f} µs"
    )
    print(
        f"  baseline dict lookup: {local['baseline_lookups_per_second']:,.0f}/s; evaluate costs "
        f"{local['baseline_lookups_per_second'] / local['per_second']:.1f}x a lookup"
    )
    print(f"HTTP batch endpoint ({http['batch_size']} routes per request, every decision audited in SQLite):")
    print(f"  {http['per_second']:>12,.0f} decisions/s")
    print(
        f"  batch p50 {http['batch_p50_ms']:.1f} ms   p99 {http['batch_p99_ms']:.1f} ms   "
        f"(GET /health/live p50 {http['health_p50_ms']:.2f} ms: a batch costs "
        f"{http['batch_p50_ms'] / http['health_p50_ms']:.1f}x a bare round trip)"
    )
    ratio = http["slo_within_30s"] / SLO_SHARE
    print(
        f"seed SLO (99% of evaluations within 30 s): {http['slo_within_30s']:.2%} within 30 s "
        f"-> {ratio:.3f}x the target; p99 batch latency is {SLO_SECONDS * 1000 / http['batch_p99_ms']:,.0f}x "
        "under the bound"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    policy = load_policy_file(MATRIX)
    routes = routes_for(policy)
    result = {
        "in_process": in_process(policy, routes, args.decisions),
        "http": over_http(routes, args.batches, args.batch_size),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)


if __name__ == "__main__":
    main()
