"""The spine's own event schemas (schema events, audit records, DLQ envelopes, lineage facets).

They ship inside the distribution so an installed service finds them; read them with :func:`read`.
"""

from __future__ import annotations

from importlib.resources import files


def read(name: str) -> str:
    """The text of the schema file ``name`` (e.g. ``schema_event.avsc``)."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


__all__ = ["read"]
