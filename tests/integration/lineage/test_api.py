"""The HTTP API: ingest (one event, batches), idempotence, bad input, and the Marquez-shaped reads."""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import quote

import pytest

from spine.auth import Role
from tests.integration.lineage.service import Lineage
from tests.unit.lineage.events import dataset, facet, run_event, schema_facet, tags_facet

pytestmark = pytest.mark.integration

RESIDENCY = {
    "_producer": "x:y",
    "_schemaURL": "x:z",
    "decisions": [
        {
            "decision_id": "d-1",
            "outcome": "allow",
            "dataset": "sales.orders",
            "redacted_fields": [],
            "policy_version": "1",
        }
    ],
}

NS = "kafka://spine"
QNS = quote(NS, safe="")
T1, T2 = "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z"


def _pipeline() -> list[dict[str, Any]]:
    """orders -> enrich -> enriched -> load -> warehouse ; enriched -> report (later) -> report."""
    column = facet(
        "ColumnLineageDatasetFacet",
        fields={"email_hash": {"inputFields": [{"namespace": NS, "name": "enriched", "field": "email"}]}},
    )
    return [
        run_event(
            "enrich",
            event_type="START",
            time=T1,
            run_id="0b6c8a2c-5a53-4d3a-9d0c-6f6c4d7b8e11",
            inputs=[dataset(NS, "orders", schema=schema_facet("id", ("email", "string", ["PII.email"])))],
            outputs=[dataset(NS, "enriched")],
        ),
        run_event(
            "enrich",
            time=T1.replace("10:00", "10:05"),
            run_id="0b6c8a2c-5a53-4d3a-9d0c-6f6c4d7b8e11",
            inputs=[dataset(NS, "orders")],
            outputs=[
                dataset(
                    NS,
                    "enriched",
                    schema=schema_facet("id", "email"),
                    tags=tags_facet(("PII.email", "email")),
                )
            ],
            run_facets={"spine_residency": RESIDENCY},
        ),
        run_event(
            "load",
            time=T1,
            inputs=[dataset(NS, "enriched")],
            outputs=[
                dataset(
                    "postgres://wh:5432",
                    "public.customers",
                    schema=schema_facet("email_hash"),
                    columnLineage=column,
                    tags=tags_facet(("PII", None)),
                )
            ],
        ),
        run_event("report", time=T2, inputs=[dataset(NS, "enriched")], outputs=[dataset(NS, "report")]),
    ]


def _ingest(lineage: Lineage, events: list[dict[str, Any]]) -> dict[str, Any]:
    response = lineage.post("/api/v1/lineage/batch", json=events)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(graph: dict[str, Any]) -> set[str]:
    return {node["id"] for node in graph["graph"]}


def test_one_event_is_stored_once_however_often_it_is_sent(lineage: Lineage) -> None:
    event = run_event("j", outputs=[dataset(NS, "d")])
    for _ in range(3):
        response = lineage.post("/api/v1/lineage", json=event)
        assert response.status_code == 201, response.text
        assert response.content == b""
    assert lineage.get("/api/v1/events/lineage").json()["totalCount"] == 1
    assert _ingest(lineage, [event, event]) == {"received": 2, "stored": 0, "duplicates": 2}


def test_gzip_bodies_are_accepted_as_the_openlineage_client_sends_them(lineage: Lineage) -> None:
    body = gzip.compress(json.dumps(run_event("j")).encode())
    response = lineage.post("/api/v1/lineage", content=body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 201, response.text


def test_writes_need_a_producer_token(lineage: Lineage) -> None:
    event = run_event("j")
    assert lineage.post("/api/v1/lineage", role=None, json=event).status_code == 401
    response = lineage.post("/api/v1/lineage", role=Role.CONSUMER, json=event)
    assert response.status_code == 403
    assert set(response.json()) == {"error_code", "message"}


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (lambda e: e.update(eventType="FINISHED"), 42202, "$.eventType"),
        (lambda e: e["run"].pop("runId"), 42203, "$.run.runId"),
        (lambda e: e["outputs"][0]["facets"]["schema"]["fields"].append({"type": "x"}), 42204,
         "$.outputs[0].facets.schema.fields[1].name"),
    ],
)  # fmt: skip
def test_an_invalid_event_gets_a_422_naming_the_problem_and_its_path(
    lineage: Lineage, change: Any, code: int, path: str
) -> None:
    event = run_event("j", outputs=[dataset(NS, "d", schema=schema_facet("id"))])
    change(event)
    response = lineage.post("/api/v1/lineage", json=event)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error_code"] == code
    assert path in body["message"]
    assert body["problems"][0]["path"] == path
    batch = lineage.post("/api/v1/lineage/batch", json=[run_event("ok"), event])
    assert batch.status_code == 422
    assert batch.json()["problems"][0]["path"] == "$[1]" + path[1:]
    assert lineage.get("/api/v1/events/lineage").json()["totalCount"] == 0  # all or nothing


def test_malformed_json_and_a_5_mb_body_get_4xx(lineage: Lineage) -> None:
    response = lineage.post("/api/v1/lineage", content=b"{not json")
    assert (response.status_code, response.json()["error_code"]) == (400, 40001)
    response = lineage.post("/api/v1/lineage", content=b" " * (5 * 1024 * 1024))
    assert (response.status_code, response.json()["error_code"]) == (413, 41301)


def test_marquez_reads_namespaces_datasets_jobs_and_runs(lineage: Lineage) -> None:
    _ingest(lineage, _pipeline())
    names = [n["name"] for n in lineage.get("/api/v1/namespaces").json()["namespaces"]]
    assert names == sorted([NS, "postgres://wh:5432", "spine"])
    datasets = lineage.get(f"/api/v1/namespaces/{QNS}/datasets").json()
    assert datasets["totalCount"] == 3
    enriched = lineage.get(f"/api/v1/namespaces/{QNS}/datasets/enriched").json()
    assert enriched["id"] == {"namespace": NS, "name": "enriched"}
    assert [(f["name"], f["tags"]) for f in enriched["fields"]] == [("id", []), ("email", ["PII.email"])]
    assert enriched["tagDetails"][0]["origin"] == "tags"
    job = lineage.get("/api/v1/namespaces/spine/jobs/enrich").json()
    assert job["inputs"] == [{"namespace": NS, "name": "orders"}]
    assert job["outputs"] == [{"namespace": NS, "name": "enriched"}]
    latest = job["latestRun"]
    assert latest["state"] == "COMPLETED"
    assert latest["durationMs"] == 5 * 60 * 1000
    assert latest["facets"]["spine_residency"]["decisions"][0]["outcome"] == "allow"
    runs = lineage.get("/api/v1/namespaces/spine/jobs/enrich/runs").json()
    assert runs["totalCount"] == 1
    assert lineage.get(f"/api/v1/jobs/runs/{latest['id']}").json()["id"] == latest["id"]
    assert lineage.get("/api/v1/jobs/runs/00000000-0000-0000-0000-000000000000").status_code == 404
    versions = lineage.get(f"/api/v1/namespaces/{QNS}/datasets/enriched/versions").json()
    assert versions["totalCount"] == 1


def test_lineage_to_depth_with_colons_in_the_namespace(lineage: Lineage) -> None:
    _ingest(lineage, _pipeline())
    graph = lineage.get(
        "/api/v1/lineage", params={"nodeId": "dataset:postgres://wh:5432:public.customers", "depth": 2}
    ).json()
    assert _ids(graph) == {
        "dataset:postgres://wh:5432:public.customers",
        "job:spine:load",
        f"dataset:{NS}:enriched",
    }
    node = next(n for n in graph["graph"] if n["id"] == "job:spine:load")
    assert node["type"] == "JOB"
    assert node["outEdges"] == [
        {"origin": "job:spine:load", "destination": "dataset:postgres://wh:5432:public.customers"}
    ]
    assert lineage.get("/api/v1/lineage", params={"nodeId": "dataset:nope:nope"}).status_code == 404
    assert lineage.get("/api/v1/lineage", params={"nodeId": "nonsense"}).status_code == 400


def test_tag_filter_keeps_tagged_datasets_and_the_paths_between_them(lineage: Lineage) -> None:
    _ingest(lineage, _pipeline())
    graph = lineage.get("/api/v1/lineage", params={"tag": "PII"}).json()
    assert _ids(graph) == {
        f"dataset:{NS}:orders", "job:spine:enrich", f"dataset:{NS}:enriched", "job:spine:load",
        "dataset:postgres://wh:5432:public.customers",
    }  # fmt: skip
    narrow = lineage.get(
        "/api/v1/lineage", params={"tag": "PII.email", "nodeId": f"dataset:{NS}:report"}
    ).json()
    assert _ids(narrow) == {f"dataset:{NS}:orders", "job:spine:enrich", f"dataset:{NS}:enriched"}
    results = lineage.get("/api/v1/search", params={"tag": "PII"}).json()["results"]
    assert [r["nodeId"] for r in results] == [f"dataset:{NS}:enriched", f"dataset:{NS}:orders",
                                             "dataset:postgres://wh:5432:public.customers"]  # fmt: skip


def test_as_of_shows_the_graph_as_it_was(lineage: Lineage) -> None:
    _ingest(lineage, _pipeline())
    node = {"nodeId": f"dataset:{NS}:enriched", "depth": 5}
    assert "job:spine:report" in _ids(lineage.get("/api/v1/lineage", params=node).json())
    before = lineage.get("/api/v1/lineage", params={**node, "asOf": "2026-11-01T12:00:00Z"}).json()
    assert "job:spine:report" not in _ids(before)
    assert "job:spine:load" in _ids(before)
    early = lineage.get(
        f"/api/v1/namespaces/{QNS}/datasets/orders", params={"asOf": "2026-10-01T00:00:00Z"}
    ).json()
    assert early["fields"] == []
    assert lineage.get("/api/v1/lineage", params={**node, "asOf": "last week"}).status_code == 400


def test_column_lineage_and_field_impact(lineage: Lineage) -> None:
    _ingest(lineage, _pipeline())
    graph = lineage.get(
        "/api/v1/column-lineage", params={"nodeId": "dataset:postgres://wh:5432:public.customers"}
    ).json()
    target = next(n for n in graph["graph"] if n["data"]["field"] == "email_hash")
    assert target["type"] == "DATASET_FIELD"
    assert target["data"]["inputFields"][0]["field"] == "email"
    assert target["data"]["fieldType"] == "string"
    impact = lineage.get(
        "/api/v1/column-lineage/impact", params={"nodeId": f"datasetField:{NS}:enriched:email"}
    ).json()
    assert [i["nodeId"] for i in impact["impacted"]] == [
        "datasetField:postgres://wh:5432:public.customers:email_hash"
    ]
    assert impact["jobs"] == ["job:spine:load"]


def test_search_by_name(lineage: Lineage) -> None:
    _ingest(lineage, _pipeline())
    results = lineage.get("/api/v1/search", params={"q": "enrich"}).json()["results"]
    assert {(r["type"], r["name"]) for r in results} == {("DATASET", "enriched"), ("JOB", "enrich")}
    jobs = lineage.get("/api/v1/search", params={"q": "enrich", "filter": "JOB"}).json()["results"]
    assert [r["nodeId"] for r in jobs] == ["job:spine:enrich"]


def test_health_metrics_and_the_ui_page(lineage: Lineage) -> None:
    assert lineage.get("/health/ready").json()["status"] == "ok"
    assert "lineage_events_stored_total" in lineage.get("/metrics").text
    page = lineage.get("/")
    assert page.status_code == 200
    assert "<title>Data Spine lineage</title>" in page.text
    assert lineage.get("/vendor/cytoscape.min.js").status_code == 200
