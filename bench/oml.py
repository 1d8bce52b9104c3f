"""OML: compile time of a generated 100-step pipeline (goal ≤ 200 ms), against composing its YAML alone
(the floor of any compiler), with the example matrix and order schema in memory; and with ``--topology``
the example pipeline's records/s against a hand-written confluent-kafka loop doing the same work
(goal ≥ 0.8x).

The topology half starts the embedded broker, a registry and a residency gate in this process (as
``bench/governed.py`` does), publishes the example's schemas, produces ``--records`` orders, then measures,
from the first record received to the last one's commit: the example pipeline (``PipelineRunner``: gate
check, decoding, redaction, filter, expectations with DLQ, SQL expressions, projection, governed topic sink,
SQLite upsert) and a loop over ``confluent_kafka.Consumer``/``Producer`` with Confluent's Avro serde doing
the same per record (drop the email, filter, the four checks, compute, produce, upsert per batch, commit).

    python -m bench.oml [--steps 100] [--rounds 20] [--topology --records 20000] [--json]

(Run as a module: as ``python bench/oml.py`` this file's name would hide the ``oml`` package.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

from oml.compile import compile_pipeline
from oml.connections import parse_connections
from oml.context import StaticContext
from oml.document import COMPOSER
from oml.validate import validate
from residency_gate.policy import load_policy_file
from spine.registry_client import SubjectVersion

ROOT = Path(__file__).resolve().parents[1]
GOAL_MS = 200.0
CONNECTIONS = "connections:\n  kafka:\n    local: {default: true, bootstrap: 127.0.0.1:9092}\n"
CONNECTIONS += "  sql:\n    analytics: {default: true, url: 'sqlite:///a.db'}\n"


def generate_pipeline(steps: int) -> str:
    """A source, ``steps - 2`` transforms cycling through filter, SQL, project and expectations, a sink."""
    out: list[dict[str, Any]] = [
        {"id": "s0", "component": "kafka.governed_source", "mode": "read",
         "config": {"dataset": "sales.orders", "region": "eu-central", "sink": "analytics-eu"}},
    ]  # fmt: skip
    for i in range(1, steps - 1):
        kind = i % 4
        if kind == 0:
            body = {
                "component": "transform.filter",
                "config": {"where": f"amount_cents > {i} OR status = 'PAID'"},
            }
        elif kind == 1:
            body = {"component": "transform.sql", "config": {"select": {f"c{i}": "amount_cents * 2 + 1"}}}
        elif kind == 2:
            cols = {"order_id": "order_id", "amount_cents": "amount_cents", "status": "status"}
            body = {"component": "transform.project", "config": {"columns": cols}}
        else:
            rules = [
                {"expect": "not_null", "column": "order_id"},
                {"expect": "range", "column": "amount_cents", "min": 0},
            ]
            body = {"component": "quality.expectations", "config": {"expectations": rules}}
        out.append({"id": f"s{i}", "mode": "transform", "needs": [f"s{i - 1}"], **body})
    sink = {"table": "t", "key": ["order_id"], "sink": "analytics-eu"}
    out.append({"id": f"s{steps - 1}", "component": "sql.table_sink", "mode": "write",
                "needs": [f"s{steps - 2}"], "config": sink})  # fmt: skip
    return yaml.safe_dump({"oml_version": "0.1.0", "name": "generated", "steps": out}, sort_keys=False)


def context() -> StaticContext:
    policy = load_policy_file(ROOT / "examples" / "residency" / "matrix.yaml")
    text = (ROOT / "examples" / "schemas" / "order.avsc").read_text()
    tags = tuple((f["name"], tuple(f["confluent:tags"])) for f in json.loads(text)["fields"])
    version = SubjectVersion("sales.orders-value", 1, 1, "AVRO", text, "1.0.0", "sales.orders.v1", tags)
    return StaticContext(policy, {version.subject: version})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--topology", action="store_true", help="also measure the example topology")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    text = generate_pipeline(args.steps)
    connections, _ = parse_connections(CONNECTIONS, "bench")
    ctx = context()
    compile_ms: list[float] = []
    parse_ms: list[float] = []
    manifests = set()
    for _ in range(args.rounds):
        start = time.perf_counter()
        yaml.compose(text, Loader=COMPOSER)
        parse_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        compiled = compile_pipeline(validate(text, connections=connections), ctx)
        compile_ms.append((time.perf_counter() - start) * 1000)
        manifests.add(compiled.text)
    result = {
        "steps": args.steps,
        "rounds": args.rounds,
        "compile_ms_median": round(statistics.median(compile_ms), 2),
        "compile_ms_max": round(max(compile_ms), 2),
        "yaml_parse_ms_median": round(statistics.median(parse_ms), 2),
        "ratio_to_yaml_parse": round(statistics.median(compile_ms) / statistics.median(parse_ms), 2),
        "goal_ms": GOAL_MS,
        "goal_met": max(compile_ms) <= GOAL_MS,
        "distinct_manifests": len(manifests),
    }
    if args.topology:
        from bench.oml_topology import measure

        result["topology"] = measure(args.records)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
