from __future__ import annotations

from lineage.ingest import Key, TagRow, event_id, map_event, normalize_time
from tests.unit.lineage.events import dataset, facet, run_event, schema_facet, tags_facet

NS = "kafka://spine"


def test_same_event_has_the_same_id_whatever_its_key_order() -> None:
    event = run_event("j", run_id="0b6c8a2c-5a53-4d3a-9d0c-6f6c4d7b8e11")
    shuffled = dict(reversed(list(event.items())))
    assert event_id(event) == event_id(shuffled)
    assert map_event(event).event_id == map_event(shuffled).event_id


def test_event_maps_to_job_run_edges_and_namespaces() -> None:
    event = run_event(
        "orders.enrich",
        run_id="0B6C8A2C-5A53-4D3A-9D0C-6F6C4D7B8E11",
        inputs=[dataset(NS, "sales.orders.v1")],
        outputs=[dataset("postgres://wh", "public.orders")],
        time="2026-11-01T12:00:00+02:00",
    )
    rows = map_event(event)
    assert rows.job == Key("spine", "orders.enrich")
    assert rows.run_id == "0b6c8a2c-5a53-4d3a-9d0c-6f6c4d7b8e11"
    assert rows.event_time == "2026-11-01T10:00:00.000000Z"
    assert rows.inputs == (Key(NS, "sales.orders.v1"),)
    assert rows.outputs == (Key("postgres://wh", "public.orders"),)
    assert rows.namespaces == {"spine", NS, "postgres://wh"}
    assert all(d.content_hash is None for d in rows.datasets)  # no facets: no new version


def test_tags_come_from_the_tags_facet_and_from_schema_fields() -> None:
    event = run_event(
        "j",
        outputs=[
            dataset(
                NS,
                "crm.customers.v1",
                schema=schema_facet("id", ("email", "string", ["PII.email"])),
                tags=tags_facet(("PII.email", "email"), ("GDPR", None)),
            )
        ],
    )
    [rows] = map_event(event).datasets
    assert [f.name for f in rows.fields] == ["id", "email"]
    assert set(rows.tags) == {
        TagRow("PII.email", "email", "true", None, "schema"),
        TagRow("PII.email", "email", "true", "spine", "tags"),
        TagRow("GDPR", None, "true", "spine", "tags"),
    }
    assert rows.content_hash is not None


def test_nested_schema_fields_are_flattened_with_dots() -> None:
    schema = facet(
        "SchemaDatasetFacet",
        fields=[{"name": "address", "type": "struct", "fields": [{"name": "city", "tags": ["PII.city"]}]}],
    )
    [rows] = map_event(run_event("j", outputs=[dataset(NS, "d", schema=schema)])).datasets
    assert [f.name for f in rows.fields] == ["address", "address.city"]
    assert rows.tags == (TagRow("PII.city", "address.city", None, None, "schema"),)


def test_column_lineage_maps_output_fields_to_input_fields() -> None:
    column = facet(
        "ColumnLineageDatasetFacet",
        fields={
            "email_hash": {
                "inputFields": [
                    {
                        "namespace": NS,
                        "name": "crm.customers.v1",
                        "field": "email",
                        "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": True}],
                    }
                ]
            }
        },
    )
    rows = map_event(run_event("j", outputs=[dataset("wh", "customers", columnLineage=column)]))
    [edge] = rows.column_edges
    assert (edge.dataset, edge.field) == (Key("wh", "customers"), "email_hash")
    assert (edge.source, edge.source_field) == (Key(NS, "crm.customers.v1"), "email")
    assert edge.transformation == {"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": True}


def test_parent_run_and_custom_facets_are_kept() -> None:
    parent = facet(
        "ParentRunFacet",
        run={"runId": "0B6C8A2C-5A53-4D3A-9D0C-6F6C4D7B8E11"},
        job={"namespace": "spine", "name": "parent"},
    )
    residency = {"_producer": "x:y", "_schemaURL": "x:z", "decision": "allow"}
    rows = map_event(run_event("j", run_facets={"parent": parent, "spine_residency": residency}))
    assert rows.parent_run_id == "0b6c8a2c-5a53-4d3a-9d0c-6f6c4d7b8e11"
    assert rows.run_facets["spine_residency"]["decision"] == "allow"


def test_normalize_time_accepts_offsets_and_z() -> None:
    assert normalize_time("2026-11-01T10:00:00Z") == "2026-11-01T10:00:00.000000Z"
    assert normalize_time("2026-11-01T11:30:00.5+01:00") == "2026-11-01T10:30:00.500000Z"
