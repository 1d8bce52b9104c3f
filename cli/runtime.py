"""``spine up``, ``spine status``, ``spine down``: run the whole spine on one machine."""

from __future__ import annotations


def up() -> None:
    """Start the broker and every service."""


def down() -> None:
    """Stop what ``spine up`` started."""


def status() -> None:
    """Show every service, its URL and its health."""
