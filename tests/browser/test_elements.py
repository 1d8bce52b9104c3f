"""The page's pure module (``lineage/ui/js/elements.js``): API answers -> graph elements, regions, paths,
layout. Run in the browser that runs the page, imported as the page imports it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import ConsoleErrors
from tests.integration.lineage.service import Lineage

pytestmark = pytest.mark.integration


@pytest.fixture
def module(seeded: Lineage, page: tuple[Page, ConsoleErrors]) -> Iterator[Page]:
    tab, errors = page
    tab.goto(f"{seeded.url}/")  # the empty page: the module is imported from the page's own origin
    tab.wait_for_selector("body[data-busy=false]")
    yield tab
    assert errors == []


def run(tab: Page, body: str, arg: Any = None) -> Any:
    """Evaluate ``body`` (a function body with ``m``, the module, and ``arg`` in scope)."""
    return tab.evaluate(
        f"async (arg) => {{ const m = await import('/js/elements.js'); {body} }}",
        arg,
    )


def node(
    id_: str, kind: str, data: dict[str, Any], ins: tuple[str, ...] = (), outs: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "id": id_,
        "type": kind,
        "data": data,
        "inEdges": [{"origin": o, "destination": id_} for o in ins],
        "outEdges": [{"origin": id_, "destination": d} for d in outs],
    }


def test_tag_matches_itself_and_dotted_children_only(module: Page) -> None:
    cases = [
        ["PII", "PII", True],
        ["PII.email", "PII", True],
        ["PIIX", "PII", False],
        ["PII", "PII.email", False],
    ]
    got = run(module, "return arg.map(([t, w]) => m.tagMatches(t, w));", cases)
    assert got == [c[2] for c in cases]


def test_elements_carry_tags_from_fields_and_deduplicate_edges(module: Page) -> None:
    graph = [
        node(
            "dataset:ns:a",
            "DATASET",
            {
                "name": "a",
                "namespace": "ns",
                "tags": ["Finance"],
                "fields": [{"name": "e", "tags": ["PII.email"]}],
            },
            outs=("job:ns:j",),
        ),
        node("job:ns:j", "JOB", {"name": "j", "namespace": "ns"}, ins=("dataset:ns:a",)),
    ]
    got = run(module, "const e = m.toElements(arg); return [e.nodes[0].data.tags, e.edges.length];", graph)
    assert got == [["Finance", "PII.email"], 1]


def test_regions_come_from_decisions_with_fallback_to_the_jobs_inputs_and_outputs(module: Page) -> None:
    decisions = {
        "spine_residency": {
            "decisions": [
                {"dataset": "crm.customers", "source_region": "eu", "destination_region": "us", "sink": "x"},
            ]
        }
    }
    graph = [
        node("dataset:k:crm.customers.v2", "DATASET", {"name": "crm.customers.v2"}, outs=("job:j:move",)),
        node("dataset:k:other", "DATASET", {"name": "other"}, outs=("job:j:move",)),
        node(
            "job:j:move",
            "JOB",
            {"name": "move", "latestRun": {"facets": decisions}},
            ins=("dataset:k:crm.customers.v2", "dataset:k:other"),
            outs=("dataset:k:out",),
        ),
        node("dataset:k:out", "DATASET", {"name": "out"}, ins=("job:j:move",)),
        node("dataset:k:tagged", "DATASET", {"name": "tagged", "facets": {"place": {"region": "ap"}}}),
    ]
    got = run(module, "return Object.fromEntries(m.regionsByNode(arg));", graph)
    assert got == {
        "dataset:k:crm.customers.v2": ["eu"],  # named by the decision (as its governed topic)
        "job:j:move": ["eu", "us"],
        "dataset:k:out": ["us"],  # the sink names nothing in the graph: the job's output
        "dataset:k:tagged": ["ap"],
    }


def test_paths_between_keep_matches_and_what_lies_on_directed_paths_between_them(module: Page) -> None:
    edges = [["a", "b"], ["b", "c"], ["a", "x"], ["y", "c"], ["c", "d"]]
    got = run(
        module,
        """const elements = {
             nodes: ['a','b','c','d','x','y'].map((id) => ({data: {id}})),
             edges: arg.map(([s, t]) => ({data: {id: s + '->' + t, source: s, target: t}})),
           };
           const p = m.pathsBetween(elements, ['a', 'c']);
           return [[...p.nodes].sort(), [...p.edges].sort()];""",
        edges,
    )
    assert got == [["a", "b", "c"], ["a->b", "b->c"]]


def test_layout_puts_each_node_right_of_its_inputs_and_survives_cycles(module: Page) -> None:
    got = run(
        module,
        """const ids = Array.from({length: 400}, (_, i) => 'n' + i);
           const edges = [];
           for (let i = 1; i < ids.length; i++) edges.push([ids[Math.floor((i - 1) / 3)], ids[i]]);
           edges.push(['n399', 'n0']);  // one cycle through the whole graph
           const elements = {
             nodes: ids.map((id) => ({data: {id}})),
             edges: edges.map(([s, t]) => ({data: {id: s + '->' + t, source: s, target: t}})),
           };
           const at = m.layeredPositions(elements);
           const spots = new Set(ids.map((id) => at[id].x + ',' + at[id].y));
           const forward = edges.slice(0, -1).every(([s, t]) => at[s].x < at[t].x);
           return [Object.keys(at).length, spots.size, forward];""",
    )
    assert got == [400, 400, True]


def test_as_of_turns_local_time_into_a_utc_instant(module: Page) -> None:
    # The browser context runs in UTC (conftest), so local and UTC times coincide.
    got = run(module, "return [m.asOfParam('2026-11-02T00:00'), m.asOfParam(''), m.asOfParam('nonsense')];")
    assert got == ["2026-11-02T00:00:00.000Z", None, None]
