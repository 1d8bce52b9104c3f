"""Change data capture: PostgreSQL tables through Debezium, the residency gate and redaction into SQL sinks.

``cdc.routes`` reads route files; ``cdc.source`` runs the embedded Debezium engine (``python -m cdc.source``)
onto Connect-shaped change topics; ``cdc.router`` (``python -m cdc.router``) asks the gate once per batch and
writes ``cdc.sink``; ``cdc.plan`` holds the pure decisions; ``cdc.replay`` and ``cdc.status`` back
``spine cdc dlq`` and ``spine cdc status``. It must not define policy or schemas itself: the gate decides,
``spine.redaction`` applies, ``spine.governed`` writes and replays dead letters.
"""

__all__: list[str] = []
