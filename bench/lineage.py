"""Lineage service: ingest events/s over HTTP batches and over Kafka; depth-5 lineage query p95.

``python -m lineage`` runs in a subprocess on SQLite against the embedded broker. Ingest goal ≥ 2,000
events/s both ways: HTTP batches to ``POST /api/v1/lineage/batch``, and records produced to
``_spine.lineage`` timed until the service has stored them all. Query goal p95 ≤ 100 ms for
``GET /api/v1/lineage?depth=5`` on a generated graph of 10,000 nodes (datasets and jobs), printed beside
the same traversal done in memory with networkx on the same graph in the same run.

    python bench/lineage.py [--http-events N] [--kafka-events N] [--nodes 10000] [--queries 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import networkx as nx

from spine.auth import Role, TokenStore
from spine.broker import EmbeddedBroker, free_port
from spine.kafka import Producer
from spine.runtime.health import wait_http_ready
from spine.settings import KafkaSettings
from spine.topics import LINEAGE

PRODUCER = "https://example.com/data-spine/bench"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
BATCH = 500
GOAL_EVENTS_S = 2000.0
GOAL_P95_MS = 100.0


def event(job: str, inputs: list[str], outputs: list[str], namespace: str = "bench") -> dict[str, Any]:
    def ds(name: str) -> dict[str, Any]:
        return {"namespace": namespace, "name": name, "facets": {}}

    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": namespace, "name": job, "facets": {}},
        "inputs": [ds(n) for n in inputs],
        "outputs": [ds(n) for n in outputs],
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def count(client: httpx.Client) -> int:
    return int(client.get("/api/v1/events/lineage", params={"limit": 1}).json()["totalCount"])


def bench_http(client: httpx.Client, token: str, total: int) -> float:
    events = [event(f"http-{i % 100}", [f"h-in-{i % 400}"], [f"h-out-{i % 400}"]) for i in range(total)]
    start = time.perf_counter()
    for offset in range(0, total, BATCH):
        response = client.post(
            "/api/v1/lineage/batch",
            json=events[offset : offset + BATCH],
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
    return total / (time.perf_counter() - start)


def bench_kafka(client: httpx.Client, kafka: KafkaSettings, total: int) -> float:
    before = count(client)
    payloads = [
        json.dumps(event(f"kafka-{i % 100}", [f"k-in-{i % 400}"], [f"k-out-{i % 400}"])).encode()
        for i in range(total)
    ]
    start = time.perf_counter()
    with Producer(kafka) as producer:
        for payload in payloads:
            producer.send(LINEAGE, payload)
    while count(client) < before + total:
        if time.perf_counter() - start > 600:
            raise RuntimeError("Kafka ingest did not finish in 10 minutes")
        time.sleep(0.05)
    return total / (time.perf_counter() - start)


def generate_graph(nodes: int, seed: int = 7) -> tuple[list[dict[str, Any]], nx.DiGraph]:
    """Half datasets, half jobs: job i reads 1-3 earlier datasets and writes dataset i."""
    rng = random.Random(seed)
    jobs = nodes // 2
    graph = nx.DiGraph()
    events = []
    for i in range(jobs):
        reads = sorted({f"g-{rng.randrange(max(1, i))}" for _ in range(rng.randint(1, 3))}) if i else []
        events.append(event(f"gjob-{i}", reads, [f"g-{i}"], namespace="graph"))
        for name in reads:
            graph.add_edge(("dataset", name), ("job", f"gjob-{i}"))
        graph.add_edge(("job", f"gjob-{i}"), ("dataset", f"g-{i}"))
    return events, graph


def nx_lineage(graph: nx.DiGraph, reverse: Any, node: Any, depth: int) -> set[Any]:
    down = nx.single_source_shortest_path_length(graph, node, cutoff=depth)
    up = nx.single_source_shortest_path_length(reverse, node, cutoff=depth)
    return set(down) | set(up)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http-events", type=int, default=20_000)
    parser.add_argument("--kafka-events", type=int, default=20_000)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spine-bench-lineage-") as tmp:
        home = Path(tmp)
        broker = EmbeddedBroker(free_port(), log_file=home / "broker.log")
        broker.start()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
        env.update(SPINE_HOME=str(home), SPINE_KAFKA_BOOTSTRAP=broker.bootstrap, SPINE_LINEAGE_PORT=str(port))
        url = f"http://127.0.0.1:{port}"
        with (home / "lineage.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "lineage"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            if not wait_http_ready(url, 60, process):
                raise SystemExit(f"lineage did not become ready; see {home / 'lineage.log'}")
            token = TokenStore(home / "auth" / "tokens.json").issue(Role.PRODUCER, "bench")
            with httpx.Client(base_url=url, timeout=120) as client:
                http_rate = bench_http(client, token, args.http_events)
                kafka_rate = bench_kafka(client, KafkaSettings(bootstrap=broker.bootstrap), args.kafka_events)
                events, graph = generate_graph(args.nodes)
                for offset in range(0, len(events), BATCH):
                    client.post(
                        "/api/v1/lineage/batch",
                        json=events[offset : offset + BATCH],
                        headers={"Authorization": f"Bearer {token}"},
                    ).raise_for_status()
                rng = random.Random(11)
                starts = [f"g-{rng.randrange(len(events))}" for _ in range(args.queries)]
                service_ms, sizes = [], []
                for name in starts:
                    begin = time.perf_counter()
                    response = client.get(
                        "/api/v1/lineage", params={"nodeId": f"dataset:graph:{name}", "depth": 5}
                    )
                    service_ms.append((time.perf_counter() - begin) * 1000)
                    response.raise_for_status()
                    sizes.append(len(response.json()["graph"]))
                reverse = graph.reverse(copy=False)
                memory_ms, memory_sizes = [], []
                for name in starts:
                    begin = time.perf_counter()
                    found = nx_lineage(graph, reverse, ("dataset", name), 5)
                    memory_ms.append((time.perf_counter() - begin) * 1000)
                    memory_sizes.append(len(found))
        finally:
            process.terminate()
            process.wait(30)
            broker.stop()
    if sizes != memory_sizes:
        raise SystemExit("the service's lineage and networkx's traversal disagree on node counts")
    p95, nx_p95 = percentile(service_ms, 0.95), percentile(memory_ms, 0.95)
    figures = {
        "http_events_per_s": round(http_rate),
        "kafka_events_per_s": round(kafka_rate),
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "depth5_p50_ms": round(percentile(service_ms, 0.5), 2),
        "depth5_p95_ms": round(p95, 2),
        "networkx_depth5_p95_ms": round(nx_p95, 3),
        "mean_nodes_returned": round(sum(sizes) / len(sizes), 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"ingest over HTTP batches of {BATCH}: {http_rate:,.0f} events/s  (goal ≥ {GOAL_EVENTS_S:,.0f}: "
        f"{http_rate / GOAL_EVENTS_S:.2f}x)"
    )
    print(
        f"ingest over Kafka ({LINEAGE}):     {kafka_rate:,.0f} events/s  (goal ≥ {GOAL_EVENTS_S:,.0f}: "
        f"{kafka_rate / GOAL_EVENTS_S:.2f}x)"
    )
    print(
        f"depth-5 lineage on {figures['graph_nodes']:,} nodes / {figures['graph_edges']:,} edges "
        f"(mean {figures['mean_nodes_returned']} nodes returned):"
    )
    print(
        f"  service p50 {figures['depth5_p50_ms']} ms, p95 {p95:.2f} ms  (goal ≤ {GOAL_P95_MS:.0f} ms: "
        f"{GOAL_P95_MS / p95:.2f}x headroom)"
    )
    print(f"  networkx in memory p95 {nx_p95:.3f} ms  (service / networkx = {p95 / nx_p95:.0f}x)")


if __name__ == "__main__":
    main()
