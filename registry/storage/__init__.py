"""SQL storage of schemas, subject versions, references, configuration, mode and the event outbox
(the outbox table's shape is :mod:`spine.outbox`'s)."""

from registry.storage.database import Database, sqlite_url
from registry.storage.repository import Reference, StoredSchema, VersionRow, fingerprint

__all__ = ["Database", "Reference", "StoredSchema", "VersionRow", "fingerprint", "sqlite_url"]
