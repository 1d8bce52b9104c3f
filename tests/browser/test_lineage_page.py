"""The lineage page in real headless Chromium against a real lineage service holding a small graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ConsoleErrors
from tests.browser.graph import CONTACTS, COUNTS, CUSTOMERS, FRAUD, PII_NODES, PII_TAGGED, TOPIC, job_id
from tests.integration.lineage.service import Lineage

pytestmark = pytest.mark.integration

DEPTH_TWO_AROUND_TOPIC = {
    CUSTOMERS.node_id,
    job_id("cdc.customers"),
    TOPIC.node_id,
    job_id("fraud.enrich"),
    FRAUD.node_id,
    job_id("analytics.daily"),
    COUNTS.node_id,
}
DEPTH_FOUR_AROUND_TOPIC = DEPTH_TWO_AROUND_TOPIC | {job_id("warehouse.load"), CONTACTS.node_id}


def settle(page: Page) -> None:
    page.wait_for_selector("body[data-busy=false]")
    page.wait_for_selector("#panel[data-busy=false]")


def open_ui(page: Page, service: Lineage, fragment: str = "") -> None:
    page.goto(f"{service.url}/{fragment}")
    settle(page)


def shown(page: Page) -> set[str]:
    return set(page.evaluate("window.lineageView.cy.nodes().map(n => n.id())"))


def with_class(page: Page, name: str) -> set[str]:
    return set(page.evaluate("(c) => window.lineageView.cy.nodes('.' + c).map(n => n.id())", name))


def click_node(page: Page, node_id: str) -> None:
    """Click where the node is drawn on the canvas, as a person would."""
    point: dict[str, float] = page.evaluate(
        """(id) => {
            const cy = window.lineageView.cy;
            const at = cy.getElementById(id).renderedPosition();
            const box = cy.container().getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y};
        }""",
        node_id,
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_function("(id) => document.getElementById('panel').dataset.node === id", arg=node_id)
    settle(page)


def search_and_open(page: Page, text: str, node_id: str) -> None:
    page.fill("#search-q", text)
    page.locator(f'#search-results li[data-node-id="{node_id}"]').click()
    page.wait_for_function("(id) => window.lineageView.state.focus === id", arg=node_id)
    settle(page)


def set_depth(page: Page, depth: int) -> None:
    page.focus("#depth")
    current = int(page.input_value("#depth"))
    key = "ArrowRight" if depth > current else "ArrowLeft"
    for _ in range(abs(depth - current)):
        page.keyboard.press(key)
    settle(page)


def set_tag(page: Page, tag: str) -> None:
    page.fill("#tag", tag)
    page.press("#tag", "Enter")
    settle(page)


def set_mode(page: Page, mode: str) -> None:
    page.check(f'input[name="mode"][value="{mode}"]')
    settle(page)


def test_search_depth_pii_filter_and_side_panel(
    seeded: Lineage, page: tuple[Page, ConsoleErrors], tmp_path: Path
) -> None:
    tab, errors = page
    open_ui(tab, seeded)
    expect(tab.locator("#empty")).to_be_visible()

    search_and_open(tab, "crm.cust", TOPIC.node_id)
    assert shown(tab) == DEPTH_TWO_AROUND_TOPIC
    expect(tab.locator("#status")).to_contain_text("7 nodes")
    set_depth(tab, 4)
    assert shown(tab) == DEPTH_FOUR_AROUND_TOPIC

    set_mode(tab, "filter")
    set_tag(tab, "PII")
    assert shown(tab) == PII_NODES
    assert with_class(tab, "tagged") == PII_TAGGED

    set_mode(tab, "highlight")
    assert shown(tab) == DEPTH_FOUR_AROUND_TOPIC
    assert with_class(tab, "path") == PII_NODES
    assert with_class(tab, "dim") == DEPTH_FOUR_AROUND_TOPIC - PII_NODES

    click_node(tab, TOPIC.node_id)
    panel = tab.locator("#panel")
    expect(panel.locator("h2")).to_have_text(TOPIC.name)
    email = panel.locator('[data-fields] tr[data-field="email"]')
    expect(email.locator(".chip.match")).to_have_text("PII.email")
    expect(panel.locator('[data-fields] tr[data-field="country"] .chip')).to_have_count(0)
    decision = panel.locator('[data-decision="dec-0001"]')
    expect(decision).to_contain_text("allow with redaction")
    expect(decision).to_contain_text("eu")
    expect(decision).to_contain_text("us")
    expect(decision).to_contain_text("email (mask)")
    expect(panel.locator("[data-runs] tbody tr")).to_have_count(3)
    expect(panel.locator('details[data-facet="spine_governance"]')).to_have_count(1)
    expect(panel).to_contain_text("crm.customers-value")

    tab.screenshot(path=str(tmp_path / "lineage-ui.png"))
    assert errors == []


def test_tag_alone_shows_every_tagged_dataset_and_the_paths_between_them(
    seeded: Lineage, page: tuple[Page, ConsoleErrors]
) -> None:
    tab, errors = page
    open_ui(tab, seeded, "#tag=PII")
    assert shown(tab) == PII_NODES
    assert with_class(tab, "tagged") == PII_TAGGED
    set_tag(tab, "PIIX")  # a sibling name, not a dotted child: only ref.countries carries it
    assert shown(tab) == {"dataset:warehouse:ref.countries"}
    assert errors == []


def test_region_filter_keeps_what_residency_decisions_place_in_it(
    seeded: Lineage, page: tuple[Page, ConsoleErrors]
) -> None:
    tab, errors = page
    open_ui(tab, seeded, f"#node={TOPIC.node_id}&depth=4")
    options = tab.locator("#region option").all_inner_texts()
    assert options == ["any", "eu", "us"]
    tab.select_option("#region", "us")
    settle(tab)
    assert with_class(tab, "path") == {job_id("fraud.enrich"), FRAUD.node_id}
    set_mode(tab, "filter")
    assert shown(tab) == {job_id("fraud.enrich"), FRAUD.node_id}
    tab.select_option("#region", "eu")
    settle(tab)
    assert shown(tab) == {TOPIC.node_id, job_id("fraud.enrich")}
    assert errors == []


def test_as_of_hides_what_was_first_seen_later(seeded: Lineage, page: tuple[Page, ConsoleErrors]) -> None:
    tab, errors = page
    open_ui(tab, seeded, f"#node={TOPIC.node_id}&depth=4")
    assert CONTACTS.node_id in shown(tab)
    tab.fill("#as-of", "2026-11-02T00:00:00")
    settle(tab)
    assert shown(tab) == DEPTH_TWO_AROUND_TOPIC
    expect(tab.locator("#status")).to_contain_text("as of 2026-11-02")
    tab.click("#as-of-now")
    settle(tab)
    assert shown(tab) == DEPTH_FOUR_AROUND_TOPIC
    assert errors == []


def test_panel_shows_column_lineage_and_field_impact(
    seeded: Lineage, page: tuple[Page, ConsoleErrors]
) -> None:
    tab, errors = page
    open_ui(tab, seeded, f"#node={TOPIC.node_id}&depth=4")
    click_node(tab, TOPIC.node_id)
    columns = tab.locator("#panel [data-column-lineage]")
    expect(columns).to_contain_text("email ← public.customers.email")
    expect(columns).to_contain_text("email → fraud.customers_us.email_masked")
    tab.locator('#panel tr[data-field="email"] button').click()
    impact = tab.locator("#panel [data-impact]")
    expect(impact).to_contain_text("fraud.customers_us.email_masked (1 hop)")
    expect(impact).to_contain_text("warehouse.customer_contacts.contact_email (2 hops)")
    assert with_class(tab, "impact") == {FRAUD.node_id, CONTACTS.node_id}
    assert errors == []


def test_job_panel_shows_its_runs_and_residency_decisions(
    seeded: Lineage, page: tuple[Page, ConsoleErrors]
) -> None:
    tab, errors = page
    open_ui(tab, seeded, f"#node={TOPIC.node_id}")
    click_node(tab, job_id("fraud.enrich"))
    panel = tab.locator("#panel")
    expect(panel.locator(".kind")).to_have_text("JOB")
    expect(panel.locator('[data-decision="dec-0001"]')).to_contain_text("fraud.customers_us")
    expect(panel.locator("[data-runs] .state")).to_have_text(["COMPLETED"])
    expect(panel.locator('details[data-facet="run: spine_residency"]')).to_have_count(0)
    assert errors == []


def test_double_click_recentres_and_the_view_survives_a_reload(
    seeded: Lineage, page: tuple[Page, ConsoleErrors]
) -> None:
    tab, errors = page
    open_ui(tab, seeded, f"#node={TOPIC.node_id}&depth=2")
    point: dict[str, Any] = tab.evaluate(
        """(id) => {
            const cy = window.lineageView.cy;
            const at = cy.getElementById(id).renderedPosition();
            const box = cy.container().getBoundingClientRect();
            return {x: box.left + at.x, y: box.top + at.y};
        }""",
        FRAUD.node_id,
    )
    tab.mouse.dblclick(point["x"], point["y"])
    tab.wait_for_function("(id) => window.lineageView.state.focus === id", arg=FRAUD.node_id)
    settle(tab)
    assert CONTACTS.node_id in shown(tab)
    assert with_class(tab, "focus") == {FRAUD.node_id}
    tab.reload()
    settle(tab)
    assert with_class(tab, "focus") == {FRAUD.node_id}
    assert errors == []
