"""Change data capture: PostgreSQL tables through Debezium, the residency gate and redaction into SQL sinks.

``cdc.routes`` reads route files; ``cdc.source`` runs the embedded Debezium engine (``python -m cdc.source``)
onto Connect-shaped change topics; ``cdc.router`` (``python -m cdc.router``) asks the gate once per batch and
writes ``cdc.sink``; ``cdc.plan`` holds the pure decisions; ``cdc.replay`` and ``cdc.status`` back
``spine cdc dlq`` and ``spine cdc status``. ``cdc.schemas`` (pure) builds each table's Avro value schema
from Debezium's column types and ``cdc.registration`` publishes it through ``spine.registry_client`` (the
registry classifies each change; a breaking one stops the route); ``cdc.lineage`` (pure) builds each
batch's OpenLineage run, queued by the router in the sink's outbox. It must not define policy or
compatibility rules itself: the gate decides, the registry classifies, ``spine.redaction`` applies,
``spine.governed`` writes and replays dead letters.
"""

__all__: list[str] = []
