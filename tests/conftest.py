"""Shared fixtures: a real broker and a real PostgreSQL, started once per session when a test asks."""

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.postgres"]
