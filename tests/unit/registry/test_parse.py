"""Parsing Avro and JSON Schema: canonical forms, references, tags and clean errors on bad input."""

from __future__ import annotations

import json

import pytest

from registry.errors import InvalidSchemaError, UnknownSchemaTypeError
from registry.schemas import SchemaType, TaggedField, parse_schema
from tests.unit.registry.helpers import avro_record, field, json_schema, record


def test_avro_canonical_ignores_whitespace_and_key_order() -> None:
    a = '{"type": "record", "name": "User", "fields": [{"name": "id", "type": "string"}]}'
    b = '{ "fields":[ {"type":"string","name":"id"} ],\n "name":"User","type":"record" }'
    assert parse_schema("AVRO", a).canonical() == parse_schema("avro", b).canonical()


def test_avro_canonical_keeps_field_order_and_qualifies_names() -> None:
    one = avro_record(field("a", "int"), field("b", "int"))
    two = avro_record(field("b", "int"), field("a", "int"))
    assert one.canonical() != two.canonical()
    assert '"name":"com.example.User"' in one.canonical()


def test_avro_docs_and_tags_change_canonical_but_not_canonical_without_docs() -> None:
    plain = avro_record(field("email", "string"))
    documented = avro_record(field("email", "string", doc="mail", **{"confluent:tags": ["PII"]}), doc="x")
    assert plain.canonical() != documented.canonical()
    assert plain.canonical_without_docs() == documented.canonical_without_docs()


def test_avro_reference_named_types_are_usable() -> None:
    address = json.dumps(record(field("city", "string"), name="Address"))
    user = json.dumps(record(field("home", "com.example.Address")))
    parsed = parse_schema(SchemaType.AVRO, user, {"address.avsc": address})
    assert parsed.schema_type is SchemaType.AVRO


def test_avro_unknown_named_type_names_the_path() -> None:
    with pytest.raises(InvalidSchemaError, match=r"/fields/home/type: unknown type 'Address'"):
        avro_record(field("home", "Address"))


def test_avro_tags_are_listed_with_dotted_paths() -> None:
    address = {
        "type": "record",
        "name": "Address",
        "fields": [field("country", "string", **{"confluent:tags": ["PII.location"]})],
    }
    parsed = avro_record(
        field("email", "string", **{"confluent:tags": ["PII", "PII.email"]}),
        field("address", ["null", address], default=None),
        field("id", "string"),
    )
    assert parsed.tagged_fields() == [
        TaggedField("email", ("PII", "PII.email")),
        TaggedField("address.country", ("PII.location",)),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "42",
        '{"type": "nonsense"}',
        '{"type": "record", "name": "R"}',
        '{"type": "record", "name": "R", "fields": [{"name": "a"}]}',
        '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]}',
        '{"type": "enum", "name": "E", "symbols": ["A", "A"]}',
        '{"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}',
        '{"type": "fixed", "name": "F", "size": -1}',
        '["int", "int"]',
        '{"type": "array"}',
        '{"type": "record", "name": "1bad", "fields": []}',
        '{"type": "record", "name": "R", "fields": [{"name": "a", "type": ["null", "string"], '
        '"default": "x"}]}',
        '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": 2147483648}]}',
        '{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "enum", "name": "E", '
        '"symbols": ["A"]}, "default": "B"}]}',
    ],
)
def test_malformed_avro_raises_invalid_schema(text: str) -> None:
    with pytest.raises(InvalidSchemaError):
        parse_schema(SchemaType.AVRO, text)


def test_unknown_schema_type_is_its_own_error() -> None:
    with pytest.raises(UnknownSchemaTypeError, match="XML"):
        parse_schema("XML", "{}")


def test_json_canonical_ignores_key_order_and_metadata_only_in_without_docs() -> None:
    a = json_schema({"type": "object", "properties": {"a": {"type": "string"}}})
    b = json_schema({"properties": {"a": {"type": "string", "description": "x"}}, "type": "object"})
    assert a.canonical() != b.canonical()
    assert a.canonical_without_docs() == b.canonical_without_docs()


def test_json_property_named_like_a_keyword_is_not_stripped() -> None:
    a = json_schema({"type": "object", "properties": {"description": {"type": "string"}}})
    b = json_schema({"type": "object", "properties": {}})
    assert a.canonical_without_docs() != b.canonical_without_docs()


def test_json_tags_follow_properties_and_refs() -> None:
    parsed = json_schema(
        {
            "type": "object",
            "properties": {
                "email": {"type": "string", "confluent:tags": ["PII.email"]},
                "address": {"$ref": "#/definitions/Address"},
            },
            "definitions": {
                "Address": {
                    "type": "object",
                    "properties": {"country": {"type": "string", "confluent:tags": ["PII"]}},
                }
            },
        }
    )
    assert parsed.tagged_fields() == [
        TaggedField("email", ("PII.email",)),
        TaggedField("address.country", ("PII",)),
    ]


@pytest.mark.parametrize(
    "text", ["", "[", "[]", '"x"', '{"type": 5}', '{"minimum": "a"}', '{"required": 1}', '{"$schema": 5}']
)
def test_malformed_json_schema_raises_invalid_schema(text: str) -> None:
    with pytest.raises(InvalidSchemaError):
        parse_schema(SchemaType.JSON, text)


def test_avro_defaults_follow_the_first_union_branch_and_nested_types() -> None:
    parsed = avro_record(
        field("a", ["string", "null"], default="x"),
        field("b", {"type": "array", "items": "long"}, default=[1, 2]),
        field("c", {"type": "record", "name": "In", "fields": [field("v", "int", default=1)]}, default={}),
        field("d", ["null", "com.example.User"], default=None),
    )
    assert parsed.schema_type is SchemaType.AVRO
