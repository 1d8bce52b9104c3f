"""Fixtures: Debian's Chromium driven by Playwright, a real lineage service, and a page that records
console errors. Playwright never downloads a browser here: it launches the system binary."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.browser.graph import seed
from tests.integration.lineage.service import Lineage, start_lineage


def chromium_path() -> str:
    configured = os.environ.get("SPINE_TEST_CHROMIUM")
    found = configured or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise RuntimeError(f"no Chromium at {found}: scripts/dev.sh setup installs Debian's chromium")
    return found


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package scope: Playwright's sync API holds an event loop in the main thread while it runs, which
    # would break every later test that calls asyncio.run().
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lineage]:
    """A lineage service holding the small graph of :mod:`tests.browser.graph`."""
    running = start_lineage(tmp_path_factory.mktemp("lineage-ui") / "home")
    try:
        seed(running)
        yield running
    finally:
        running.stop()


class ConsoleErrors(list[str]):
    """Console errors and uncaught exceptions the page produced."""


@pytest.fixture
def page(browser: Browser) -> Iterator[tuple[Page, ConsoleErrors]]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    opened = context.new_page()
    errors = ConsoleErrors()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield opened, errors
    finally:
        context.close()
