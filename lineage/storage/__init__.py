"""The lineage store's durable state in SQL; :class:`LineageStore` writes events and answers queries."""

from lineage.storage.database import Transaction, create_engine, default_database_url, migrate, ping

__all__ = ["Transaction", "create_engine", "default_database_url", "migrate", "ping"]
