from __future__ import annotations

from lineage.graph import (
    Direction,
    Edge,
    Kind,
    MemoryGraph,
    Node,
    field_impact,
    tag_matches,
    tagged_paths,
    traverse,
)

T1, T2 = "2026-11-01T10:00:00.000000Z", "2026-11-02T10:00:00.000000Z"


def d(name: str) -> Node:
    return Node.dataset("ns", name)


def j(name: str) -> Node:
    return Node.job("ns", name)


# a -> J1 -> b -> J2 -> c -> J3 -> e ;  x -> J1 ;  b -> J4 -> f (J4 appeared later)
EDGES = [
    Edge(d("a"), j("J1"), T1),
    Edge(d("x"), j("J1"), T1),
    Edge(j("J1"), d("b"), T1),
    Edge(d("b"), j("J2"), T1),
    Edge(j("J2"), d("c"), T1),
    Edge(d("c"), j("J3"), T1),
    Edge(j("J3"), d("e"), T1),
    Edge(d("b"), j("J4"), T2),
    Edge(j("J4"), d("f"), T2),
]
GRAPH = MemoryGraph(EDGES)


def test_node_ids_follow_marquez() -> None:
    assert d("a").id == "dataset:ns:a"
    assert j("J1").id == "job:ns:J1"
    assert Node(Kind.FIELD, "ns", "a", "email").id == "datasetField:ns:a:email"


def test_depth_counts_edges_both_ways() -> None:
    sub = traverse([d("b")], 2, GRAPH.neighbors)
    assert sub.nodes == {d("b"), j("J1"), d("a"), d("x"), j("J2"), d("c"), j("J4"), d("f")}
    assert Edge(j("J2"), d("c"), T1) in sub.edges
    assert traverse([d("b")], 0, GRAPH.neighbors).nodes == {d("b")}


def test_downstream_only_does_not_climb() -> None:
    sub = traverse([d("b")], 10, GRAPH.neighbors, direction=Direction.DOWNSTREAM)
    assert sub.nodes == {d("b"), j("J2"), d("c"), j("J3"), d("e"), j("J4"), d("f")}


def test_as_of_hides_edges_first_seen_later() -> None:
    sub = traverse([d("b")], 10, GRAPH.neighbors, as_of=T1)
    assert j("J4") not in sub.nodes
    assert d("f") not in sub.nodes


def test_tag_matches_dotted_children_only() -> None:
    assert tag_matches("PII", "PII")
    assert tag_matches("PII.email", "PII")
    assert not tag_matches("PIIX", "PII")
    assert not tag_matches("PII", "PII.email")


def test_tagged_paths_keep_tagged_nodes_and_the_paths_between_them() -> None:
    sub = traverse([d("b")], 10, GRAPH.neighbors)
    kept = tagged_paths(sub, {d("a"), d("c")})
    assert kept.nodes == {d("a"), j("J1"), d("b"), j("J2"), d("c")}
    assert Edge(d("x"), j("J1"), T1) not in kept.edges


def test_a_lone_tagged_node_has_no_path() -> None:
    kept = tagged_paths(traverse([d("b")], 10, GRAPH.neighbors), {d("f")})
    assert kept.nodes == {d("f")}
    assert kept.edges == set()


def test_field_impact_follows_column_lineage_transitively() -> None:
    def f(ds: str, name: str) -> Node:
        return Node(Kind.FIELD, "ns", ds, name)

    columns = MemoryGraph(
        column_edges=[
            (f("a", "email"), f("b", "email")),
            (f("b", "email"), f("c", "email_hash")),
            (f("b", "email"), f("c", "domain")),
            (f("c", "email_hash"), f("b", "email")),  # a cycle is visited once
            (f("a", "id"), f("b", "id")),
        ]
    )
    impacts = field_impact(f("a", "email"), columns.column_edges)
    assert [(i.node.id, i.depth) for i in impacts] == [
        ("datasetField:ns:b:email", 1),
        ("datasetField:ns:c:domain", 2),
        ("datasetField:ns:c:email_hash", 2),
    ]
    assert impacts[1].via == f("b", "email")


def test_node_ids_with_colons_in_namespaces_split_every_way() -> None:
    from lineage.nodeid import parse_kind, splits

    assert parse_kind("dataset:postgres://db:5432:public.orders") == (
        Kind.DATASET,
        "postgres://db:5432:public.orders",
    )
    assert splits("postgres://db:5432:public.orders", 2) == [
        ("postgres", "//db:5432:public.orders"),
        ("postgres://db", "5432:public.orders"),
        ("postgres://db:5432", "public.orders"),
    ]
    assert ("ns", "d", "email") in splits("ns:d:email", 3)
