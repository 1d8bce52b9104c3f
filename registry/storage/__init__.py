"""SQL storage of schemas, subject versions, references, configuration, mode and the event outbox."""

from registry.storage.database import Database, sqlite_url
from registry.storage.repository import OutboxEvent, Reference, StoredSchema, VersionRow, fingerprint

__all__ = ["Database", "OutboxEvent", "Reference", "StoredSchema", "VersionRow", "fingerprint", "sqlite_url"]
