"""Avro value schemas from Debezium's Connect column types: pure, without servers."""

from __future__ import annotations

import json

import fastavro
import pytest

from cdc.plan import decode
from cdc.routes import Route
from cdc.schemas import (
    SchemaBuildError,
    avro_name,
    canonical,
    dropped_without_default,
    row_fields,
    subject,
    value_schema,
)

ROUTE = Route(
    table="public.customers",
    dataset="crm.customers",
    sink="analytics-eu",
    key=("id",),
    fields={"email": ("PII.email",)},
)
ROW = [
    {"field": "id", "type": "int32", "optional": False},
    {"field": "email", "type": "string", "optional": True},
    {"field": "balance", "type": "string", "optional": True, "name": "io.debezium.data.Decimal"},
    {"field": "born", "type": "int32", "optional": True, "name": "io.debezium.time.Date"},
    {"field": "seen", "type": "int64", "optional": False, "name": "io.debezium.time.MicroTimestamp"},
]
ENVELOPE_SCHEMA = {
    "type": "struct",
    "fields": [
        {"field": "before", "type": "struct", "optional": True, "fields": ROW},
        {"field": "after", "type": "struct", "optional": True, "fields": ROW},
        {"field": "op", "type": "string"},
    ],
}


def test_columns_become_avro_fields_with_nullability_logical_types_and_tags() -> None:
    schema = value_schema("shop", ROUTE, row_fields(ENVELOPE_SCHEMA))
    fields = {f["name"]: f for f in schema["fields"]}
    assert list(fields) == ["id", "email", "balance", "born", "seen"]
    assert fields["id"]["type"] == "int"
    assert "default" not in fields["id"]
    assert fields["email"]["type"] == ["null", "string"]
    assert fields["email"]["default"] is None
    assert fields["email"]["confluent:tags"] == ["PII.email"]
    assert "confluent:tags" not in fields["id"]
    assert fields["balance"]["type"] == [
        "null",
        {"type": "string", "connect.name": "io.debezium.data.Decimal"},
    ]
    assert fields["born"]["type"] == ["null", {"type": "int", "logicalType": "date"}]
    assert fields["seen"]["type"] == {"type": "long", "logicalType": "timestamp-micros"}
    assert schema["name"] == "public_customers"
    assert schema["namespace"] == "spine.cdc.shop"
    fastavro.parse_schema(json.loads(canonical(schema)))  # a valid Avro schema


def test_a_narrowed_column_changes_the_avro_type() -> None:
    wide = value_schema("shop", ROUTE, [{"field": "id", "type": "int64", "optional": False}])
    narrow = value_schema("shop", ROUTE, [{"field": "id", "type": "int32", "optional": False}])
    assert wide["fields"][0]["type"] == "long"
    assert narrow["fields"][0]["type"] == "int"
    assert canonical(wide) != canonical(narrow)


def test_the_canonical_text_is_stable_for_one_shape() -> None:
    one = value_schema("shop", ROUTE, row_fields(ENVELOPE_SCHEMA))
    two = value_schema("shop", ROUTE, [dict(reversed(list(f.items()))) for f in ROW])
    assert canonical(one) == canonical(two)


def test_unknown_connect_types_are_refused_not_coerced() -> None:
    with pytest.raises(SchemaBuildError, match="column geo: Connect type map"):
        value_schema("shop", ROUTE, [{"field": "geo", "type": "map"}])
    with pytest.raises(SchemaBuildError, match=r"io\.debezium\.time\.Date on Connect type string"):
        value_schema("shop", ROUTE, [{"field": "d", "type": "string", "name": "io.debezium.time.Date"}])


def test_arrays_names_and_subjects() -> None:
    field = {
        "field": "tags",
        "type": "array",
        "optional": True,
        "items": {"type": "string", "optional": True},
    }
    schema = value_schema("shop-1", ROUTE, [field])
    assert schema["fields"][0]["type"] == ["null", {"type": "array", "items": ["null", "string"]}]
    assert schema["namespace"] == "spine.cdc.shop_1"
    assert avro_name("9lives") == "_9lives"
    assert subject("shop.public.customers") == "shop.public.customers-value"


def test_decode_keeps_the_row_fields_of_the_envelope() -> None:
    payload = {"op": "c", "before": None, "after": {"id": 1}, "source": {"lsn": 7, "ts_ms": 1}}
    event = decode(json.dumps({"schema": ENVELOPE_SCHEMA, "payload": payload}).encode())
    assert event is not None
    assert [f["field"] for f in event.fields] == ["id", "email", "balance", "born", "seen"]
    assert row_fields(None) == ()
    assert row_fields({"fields": [{"field": "op"}]}) == ()


def test_a_dropped_column_without_a_default_is_named_and_a_nullable_one_is_not() -> None:
    old = value_schema("shop", ROUTE, row_fields(ENVELOPE_SCHEMA))
    new = value_schema("shop", ROUTE, [f for f in ROW if f["field"] not in {"seen", "email"}])
    assert dropped_without_default(old, new) == ["seen"]
    assert dropped_without_default(old, old) == []
    assert dropped_without_default(new, old) == []  # added columns are not dropped ones
