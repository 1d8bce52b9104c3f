"""Parse Marquez node ids (``dataset:NS:NAME``, ``job:NS:NAME``, ``datasetField:NS:NAME:FIELD``), pure.

Namespaces are often URIs with colons (``postgres://db:5432``), so an id can split in several ways;
:func:`splits` lists every reading and the store keeps the one that names something it knows.
"""

from __future__ import annotations

from lineage.errors import BadRequestError
from lineage.graph import Kind


def parse_kind(node_id: str) -> tuple[Kind, str]:
    kind, sep, rest = node_id.partition(":")
    try:
        parsed = Kind(kind)
    except ValueError:
        parsed = None
    if not sep or not rest or parsed is None:
        raise BadRequestError(
            f"nodeId {node_id!r}: expected dataset:NAMESPACE:NAME, job:NAMESPACE:NAME or "
            "datasetField:NAMESPACE:NAME:FIELD"
        )
    return parsed, rest


def splits(rest: str, parts: int) -> list[tuple[str, ...]]:
    """Every way to cut ``rest`` at colons into ``parts`` non-empty pieces, leftmost cuts first."""
    if parts == 1:
        return [(rest,)] if rest else []
    out: list[tuple[str, ...]] = []
    for index, char in enumerate(rest):
        if char == ":" and index > 0:
            for tail in splits(rest[index + 1 :], parts - 1):
                out.append((rest[:index], *tail))
    return out


__all__ = ["parse_kind", "splits"]
