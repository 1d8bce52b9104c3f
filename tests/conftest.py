"""Shared fixtures: a real broker and a real PostgreSQL, started once per session when a test asks.

The caller's ``SPINE_*`` settings are removed for the session, so a developer's shell (a port offset, a
home) cannot change results; tests that need a setting set it themselves. ``SPINE_TEST_*`` stay: they are
the suite's own switches (an external broker, PostgreSQL binaries), read by the fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.postgres"]


@pytest.fixture(scope="session", autouse=True)
def _no_callers_spine_settings() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.upper().startswith("SPINE_") and not name.upper().startswith("SPINE_TEST_"):
                patch.delenv(name)
        yield
