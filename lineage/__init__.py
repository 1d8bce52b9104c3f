"""Lineage: the OpenLineage store and graph API behind ``python -m lineage`` (port 5000), and its web UI.

It owns what moved where: events arrive on ``_spine.lineage`` and over ``POST /api/v1/lineage``, are
validated against the OpenLineage spec shipped in ``lineage/spec``, stored idempotently in SQL, and read
back through a Marquez-compatible API. It records; it must never block data movement.
"""

from lineage.errors import InvalidEventError, LineageError, LineageErrorCode, Problem
from lineage.validate import validate_event

__all__ = ["InvalidEventError", "LineageError", "LineageErrorCode", "Problem", "validate_event"]
