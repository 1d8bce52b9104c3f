"""Change data capture (to come): Debezium sources, routes, residency decisions, sinks, DLQ, replay.

It will move rows from OLTP databases to analytics sinks; it must not define policy or schemas itself.
"""
