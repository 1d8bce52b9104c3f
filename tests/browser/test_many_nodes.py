"""The page with a few hundred nodes: everything the API answers is drawn, laid out without overlaps."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleErrors
from tests.browser.graph import PRODUCER
from tests.integration.lineage.service import Lineage, start_lineage

pytestmark = pytest.mark.integration

LAYERS = 10
WIDTH = 20


def dataset(layer: int, index: int) -> dict[str, Any]:
    return {"namespace": "bulk", "name": f"layer{layer}.table{index % WIDTH:02d}"}


def events() -> list[dict[str, Any]]:
    """LAYERS layers of WIDTH datasets; between two layers WIDTH jobs, each reading two datasets of one
    layer and writing two of the next: 200 datasets, 180 jobs, all connected."""
    out = []
    for layer in range(LAYERS - 1):
        for index in range(WIDTH):
            out.append(
                {
                    "eventType": "COMPLETE",
                    "eventTime": "2026-11-01T10:00:00Z",
                    "run": {"runId": str(uuid.uuid4())},
                    "job": {"namespace": "bulk", "name": f"step{layer}.job{index:02d}"},
                    "inputs": [dataset(layer, index), dataset(layer, index + 1)],
                    "outputs": [dataset(layer + 1, index), dataset(layer + 1, index + 3)],
                    "producer": PRODUCER,
                    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                }
            )
    return out


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lineage]:
    running = start_lineage(tmp_path_factory.mktemp("lineage-bulk") / "home")
    try:
        answer = running.post("/api/v1/lineage/batch", content=json.dumps(events()))
        answer.raise_for_status()
        yield running
    finally:
        running.stop()


def test_a_few_hundred_nodes_are_all_drawn_apart(
    bulk: Lineage, page: tuple[Page, ConsoleErrors], tmp_path: Path
) -> None:
    tab, errors = page
    start = "dataset:bulk:layer0.table00"
    expected = bulk.get("/api/v1/lineage", params={"nodeId": start, "depth": 20}).json()["graph"]
    assert len(expected) > 250
    tab.goto(f"{bulk.url}/#node={start}&depth=20")
    tab.wait_for_selector("body[data-busy=false]")
    drawn = tab.evaluate(
        """() => {
            const nodes = window.lineageView.cy.nodes();
            const spots = new Set(nodes.map((n) => `${n.position('x')},${n.position('y')}`));
            return [nodes.length, spots.size];
        }"""
    )
    assert drawn == [len(expected), len(expected)]
    expect(tab.locator("#status")).to_contain_text(f"{len(expected)} nodes")
    tab.screenshot(path=str(tmp_path / "lineage-ui-many.png"))
    assert errors == []
