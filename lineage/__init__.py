"""Lineage (to come): OpenLineage emitter with residency/policy facets, lineage store, graph API, web UI.

It will record what moved where; it must not block data movement.
"""
