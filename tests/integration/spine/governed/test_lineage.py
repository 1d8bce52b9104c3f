"""A governed producer's and consumer's runs reach the lineage service, the consumer's with its decision."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from lineage.emit import RESIDENCY_FACET, kafka_namespace
from spine.governed import GovernedConsumer, GovernedProducer, GovernedRecord
from spine.governed.lineage import JOB_NAMESPACE
from spine.kafka import Admin
from spine.settings import KafkaSettings
from tests.integration.lineage.service import Lineage, start_lineage
from tests.integration.spine.governed.conftest import GovernedSpine, avro_order, governed_spine

pytestmark = pytest.mark.integration

ORDERS: list[dict[str, Any]] = [
    {"order_id": f"o{i}", "customer_email": f"c{i}@example.com", "amount": 100 + i} for i in range(3)
]


@pytest.fixture
def relaying_spine(
    tmp_path: Path, kafka_settings: KafkaSettings, kafka_admin: Admin
) -> Iterator[GovernedSpine]:
    with governed_spine(tmp_path, kafka_settings, kafka_admin, relay_lineage=True) as running:
        yield running


@pytest.fixture
def lineage(tmp_path: Path, kafka_settings: KafkaSettings) -> Iterator[Lineage]:
    running = start_lineage(tmp_path / "lineage", kafka=kafka_settings)
    try:
        yield running
    finally:
        running.stop()


def poll(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    """Read until ``done`` holds; fail showing the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        last = read()
        if done(last):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"lineage service never showed it; last answer: {last}")
        time.sleep(0.3)


def test_a_governed_producer_and_a_redacting_consumer_are_in_the_lineage_service_after_a_run(
    relaying_spine: GovernedSpine, lineage: Lineage, group_factory: Callable[[], str]
) -> None:
    spine = relaying_spine
    topic = str(spine.publish(avro_order())["topic"])
    with GovernedProducer(
        spine.subject,
        kafka=spine.kafka,
        registry=spine.registry_client(),
        gate=spine.gate_client(),
        home=spine.home,
    ) as producer:
        for order in ORDERS:
            producer.send(order)
    group = group_factory()
    got: list[GovernedRecord] = []
    with GovernedConsumer(
        spine.dataset,
        group,
        region="us-east",
        sink="analytics-us",
        kafka=spine.kafka,
        registry=spine.registry_client("consumer"),
        gate=spine.gate_client(),
        home=spine.home,
    ) as governed:
        governed.run(got.append, max_records=len(ORDERS), idle_timeout_s=20)
    assert [r.value for r in got] == [{k: v for k, v in o.items() if k != "customer_email"} for o in ORDERS]
    assert governed.decision is not None

    namespace = kafka_namespace(spine.kafka.bootstrap_or_raise())
    dataset = f"dataset:{namespace}:{topic}"
    producer_job = f"job:{JOB_NAMESPACE}:produce.spine-producer.{topic}"
    consumer_job_name = f"consume.{group}.{topic}"
    consumer_job = f"job:{JOB_NAMESPACE}:{consumer_job_name}"

    def graph() -> dict[str, Any]:
        response = lineage.get("/api/v1/lineage", params={"nodeId": dataset, "depth": 2})
        return {"status": response.status_code, "body": response.json()}

    def edges_in_place(answer: dict[str, Any]) -> bool:
        if answer["status"] != 200:
            return False
        nodes = {n["id"]: n for n in answer["body"]["graph"]}
        node = nodes.get(dataset)
        return (
            node is not None
            and {"origin": producer_job, "destination": dataset} in node["inEdges"]
            and {"origin": dataset, "destination": consumer_job} in node["outEdges"]
        )

    poll(graph, edges_in_place)

    runs_path = (
        f"/api/v1/namespaces/{quote(JOB_NAMESPACE, safe='')}/jobs/{quote(consumer_job_name, safe='')}/runs"
    )

    def runs() -> dict[str, Any]:
        response = lineage.get(runs_path)
        return {"status": response.status_code, "body": response.json()}

    def decided(answer: dict[str, Any]) -> bool:
        listed: list[dict[str, Any]] = answer["body"].get("runs", []) if answer["status"] == 200 else []
        return bool(listed) and RESIDENCY_FACET in (listed[0].get("facets") or {})

    latest = poll(runs, decided)["body"]["runs"][0]
    [decision] = latest["facets"][RESIDENCY_FACET]["decisions"]
    assert decision["outcome"] == "allow_with_redaction"
    assert decision["decision_id"] == governed.decision.decision_id
    assert decision["sink"] == "analytics-us"
