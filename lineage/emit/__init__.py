"""The OpenLineage emitter every spine component uses: events built with openlineage-python, sent through
an outbox (services) or a local spool (CLI, SDK, pipelines) to ``_spine.lineage``.

It builds and queues events; it never talks to the broker on the caller's thread and holds no lineage store.
"""

from lineage.emit.emitter import (
    SPOOL_NAME,
    LineageEmitter,
    SpoolEmitter,
    encode,
    event_key,
    kafka_namespace,
    lineage_topic_spec,
)
from lineage.emit.facets import (
    GOVERNANCE_FACET,
    RESIDENCY_FACET,
    RedactedField,
    ResidencyDecision,
    SpineGovernanceDatasetFacet,
    SpineResidencyRunFacet,
    producer_uri,
    schema_facet,
    schema_url,
    tags_facet,
)

__all__ = [
    "GOVERNANCE_FACET",
    "RESIDENCY_FACET",
    "SPOOL_NAME",
    "LineageEmitter",
    "RedactedField",
    "ResidencyDecision",
    "SpineGovernanceDatasetFacet",
    "SpineResidencyRunFacet",
    "SpoolEmitter",
    "encode",
    "event_key",
    "kafka_namespace",
    "lineage_topic_spec",
    "producer_uri",
    "schema_facet",
    "schema_url",
    "tags_facet",
]
