"""Graph traversal over plain data, pure: lineage to depth N, tagged paths, as-of, field impact.

The graph is bipartite: datasets and jobs, with an edge ``dataset -> job`` when the job read the dataset
and ``job -> dataset`` when it wrote it, each stamped with when it was first seen (sortable UTC text).
Traversal asks an injected :data:`Neighbors` function for one whole BFS level at a time, so the same
algorithm runs over a dict (:class:`MemoryGraph`, the unit tests and the benchmark) and over SQL (one
query per level in :mod:`lineage.store`). ``depth`` counts edges: depth 2 from a dataset reaches the jobs
that read or wrote it and the datasets on their other side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from lineage.ingest import Key
from spine.classification import within


class Kind(StrEnum):
    DATASET = "dataset"
    JOB = "job"
    FIELD = "datasetField"


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


@dataclass(frozen=True, slots=True, order=True)
class Node:
    kind: Kind
    namespace: str
    name: str
    field: str | None = None

    @property
    def id(self) -> str:
        base = f"{self.kind.value}:{self.namespace}:{self.name}"
        return base if self.field is None else f"{base}:{self.field}"

    @property
    def key(self) -> Key:
        return Key(self.namespace, self.name)

    @classmethod
    def dataset(cls, namespace: str, name: str) -> Node:
        return cls(Kind.DATASET, namespace, name)

    @classmethod
    def job(cls, namespace: str, name: str) -> Node:
        return cls(Kind.JOB, namespace, name)


@dataclass(frozen=True, slots=True, order=True)
class Edge:
    origin: Node
    destination: Node
    since: str = ""  # first seen; "" means always


# Every edge leaving (DOWNSTREAM) or entering (UPSTREAM) any node of the frontier, as of a time or now.
Neighbors = Callable[[Collection[Node], Direction, "str | None"], Iterable[Edge]]


@dataclass
class Subgraph:
    nodes: set[Node] = field(default_factory=set)
    edges: set[Edge] = field(default_factory=set)

    def in_edges(self) -> dict[Node, list[Edge]]:
        out: dict[Node, list[Edge]] = defaultdict(list)
        for edge in sorted(self.edges):
            out[edge.destination].append(edge)
        return out

    def out_edges(self) -> dict[Node, list[Edge]]:
        out: dict[Node, list[Edge]] = defaultdict(list)
        for edge in sorted(self.edges):
            out[edge.origin].append(edge)
        return out


def tag_matches(tag: str, wanted: str) -> bool:
    """``PII`` matches ``PII`` and its dotted children (``PII.email``), not ``PIIX``."""
    return within(tag, wanted)


def traverse(
    start: Iterable[Node],
    depth: int,
    neighbors: Neighbors,
    *,
    direction: Direction = Direction.BOTH,
    as_of: str | None = None,
) -> Subgraph:
    """The nodes within ``depth`` edges of ``start`` (upstream, downstream or both) and their edges."""
    seeds = set(start)
    graph = Subgraph(set(seeds))
    ways = (Direction.UPSTREAM, Direction.DOWNSTREAM) if direction is Direction.BOTH else (direction,)
    for way in ways:
        seen = set(seeds)
        frontier = set(seeds)
        for _ in range(depth):
            if not frontier:
                break
            found: set[Node] = set()
            for edge in neighbors(frontier, way, as_of):
                graph.edges.add(edge)
                other = edge.destination if way is Direction.DOWNSTREAM else edge.origin
                if other not in seen:
                    seen.add(other)
                    found.add(other)
            graph.nodes |= found
            frontier = found
    graph.edges = {e for e in graph.edges if e.origin in graph.nodes and e.destination in graph.nodes}
    return graph


def _reach(start: set[Node], step: Mapping[Node, list[Node]]) -> set[Node]:
    seen = set(start)
    stack = list(start)
    while stack:
        for other in step.get(stack.pop(), ()):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def tagged_paths(graph: Subgraph, tagged: set[Node]) -> Subgraph:
    """The tagged nodes of ``graph`` and every node and edge on a directed path from one to another."""
    tagged = tagged & graph.nodes
    down: dict[Node, list[Node]] = defaultdict(list)
    up: dict[Node, list[Node]] = defaultdict(list)
    for edge in graph.edges:
        down[edge.origin].append(edge.destination)
        up[edge.destination].append(edge.origin)
    after = _reach(tagged, down)  # tagged nodes and everything below them
    before = _reach(tagged, up)  # tagged nodes and everything above them
    edges = {e for e in graph.edges if e.origin in after and e.destination in before}
    nodes = set(tagged) | {e.origin for e in edges} | {e.destination for e in edges}
    return Subgraph(nodes, edges)


@dataclass(frozen=True, slots=True)
class Impact:
    """A field reached downstream of the start field, ``depth`` column-lineage hops away."""

    node: Node
    depth: int
    via: Node  # the field it is computed from


def field_impact(
    start: Node, column_edges: Callable[[Collection[Node]], Iterable[tuple[Node, Node]]], max_depth: int = 50
) -> list[Impact]:
    """Every field computed, directly or transitively, from ``start``; ``column_edges`` maps a frontier of
    fields to (source field, derived field) pairs. Nearest first, then by id."""
    seen = {start}
    frontier = {start}
    impacts: list[Impact] = []
    for depth in range(1, max_depth + 1):
        found: dict[Node, Node] = {}
        for source, derived in sorted(column_edges(frontier)):
            if derived not in seen and derived not in found:
                found[derived] = source
        if not found:
            break
        impacts.extend(Impact(n, depth, found[n]) for n in sorted(found))
        seen |= set(found)
        frontier = set(found)
    return impacts


class MemoryGraph:
    """A lineage graph in dicts: the in-memory :data:`Neighbors` and column edges (tests, bench)."""

    def __init__(self, edges: Iterable[Edge] = (), column_edges: Iterable[tuple[Node, Node]] = ()) -> None:
        self._out: dict[Node, list[Edge]] = defaultdict(list)
        self._in: dict[Node, list[Edge]] = defaultdict(list)
        self._columns: dict[Node, list[Node]] = defaultdict(list)
        for edge in edges:
            self.add(edge)
        for source, derived in column_edges:
            self._columns[source].append(derived)

    def add(self, edge: Edge) -> None:
        self._out[edge.origin].append(edge)
        self._in[edge.destination].append(edge)

    def neighbors(self, frontier: Collection[Node], way: Direction, as_of: str | None) -> Iterable[Edge]:
        index = self._out if way is Direction.DOWNSTREAM else self._in
        for node in frontier:
            for edge in index.get(node, ()):
                if as_of is None or edge.since <= as_of:
                    yield edge

    def column_edges(self, frontier: Collection[Node]) -> Iterable[tuple[Node, Node]]:
        for node in frontier:
            for derived in self._columns.get(node, ()):
                yield node, derived


__all__ = [
    "Direction",
    "Edge",
    "Impact",
    "Kind",
    "MemoryGraph",
    "Neighbors",
    "Node",
    "Subgraph",
    "field_impact",
    "tag_matches",
    "tagged_paths",
    "traverse",
]
