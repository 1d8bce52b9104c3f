"""Fixtures: a residency gate on SQLite in the test's temporary directory, stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.residency_gate.gate import Gate, start_gate


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[Gate]:
    running = start_gate(tmp_path / "home")
    try:
        yield running
    finally:
        running.stop()
