"""The compose backend: the same store on a real PostgreSQL, idempotent, with the graph queries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.lineage.service import start_lineage
from tests.unit.lineage.events import dataset, run_event, schema_facet, tags_facet

pytestmark = pytest.mark.integration


def test_events_are_stored_once_and_queried_on_postgresql(
    tmp_path: Path, database_factory: Callable[[], str]
) -> None:
    lineage = start_lineage(tmp_path / "home", database_url=database_factory())
    try:
        schema = schema_facet(("email", "string", ["PII.email"]))
        events = [
            run_event("a", inputs=[dataset("ns", "x", schema=schema)],
                      outputs=[dataset("ns", "y", tags=tags_facet(("PII", None)))]),
            run_event("b", inputs=[dataset("ns", "y")], outputs=[dataset("ns", "z")]),
        ]  # fmt: skip
        for _ in range(2):
            response = lineage.post("/api/v1/lineage/batch", json=events)
            assert response.status_code == 200, response.text
        assert response.json() == {"received": 2, "stored": 0, "duplicates": 2}
        graph = lineage.get("/api/v1/lineage", params={"nodeId": "dataset:ns:x", "depth": 4}).json()
        assert {n["id"] for n in graph["graph"]} == {
            "dataset:ns:x", "job:spine:a", "dataset:ns:y", "job:spine:b", "dataset:ns:z",
        }  # fmt: skip
        tagged = lineage.get("/api/v1/lineage", params={"tag": "PII"}).json()
        assert {n["id"] for n in tagged["graph"]} == {"dataset:ns:x", "job:spine:a", "dataset:ns:y"}
        assert lineage.get("/health/ready").json()["status"] == "ok"
    finally:
        lineage.stop()
