"""Lineage (to come): OpenLineage emitter with residency and policy facets, lineage store, graph API and web UI.

It will record what moved where; it must not block data movement.
"""
