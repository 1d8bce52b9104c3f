"""Fixtures: a lineage service on SQLite in the test's temporary directory, stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lineage.service import Lineage, start_lineage


@pytest.fixture
def lineage(tmp_path: Path) -> Iterator[Lineage]:
    running = start_lineage(tmp_path / "home")
    try:
        yield running
    finally:
        running.stop()
