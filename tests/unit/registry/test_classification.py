"""Declassification: a field of the earlier version losing a tag (removed, or replaced by an ancestor)."""

from __future__ import annotations

from typing import Any

import pytest

from registry.classification import (
    Declassification,
    FieldClass,
    declassifications,
    field_classes,
    lost_tags,
    weakened_tags,
)
from registry.schemas import ParsedSchema
from tests.unit.registry.helpers import avro_record, field, json_schema, proto_message, record

META = 'import "confluent/meta.proto";'


def tagged(name: str, *tags: str, **extra: Any) -> dict[str, Any]:
    return field(name, "string", **({"confluent:tags": list(tags)} if tags else {}), **extra)


@pytest.mark.parametrize(
    ("before", "after", "removed"),
    [
        (("PII.email",), (), ("PII.email",)),
        (("PII.email",), ("PII",), ("PII.email",)),
        (("PII.email", "PUBLIC"), ("PII.email",), ("PUBLIC",)),
        (("PII",), ("PII.email",), ()),
        (("PII.email",), ("PII.email", "PII.phone"), ()),
        (("PII.email",), ("PII.emailish",), ("PII.email",)),
        ((), ("PII",), ()),
    ],
)
def test_a_tag_is_weakened_unless_it_or_a_narrower_tag_stays(
    before: tuple[str, ...], after: tuple[str, ...], removed: tuple[str, ...]
) -> None:
    assert weakened_tags(before, after) == removed


def found(old: ParsedSchema, new: ParsedSchema) -> list[tuple[str, tuple[str, ...], str]]:
    return [(d.field, d.removed, d.now) for d in declassifications(old, new)]


def test_dropping_a_tag_from_a_field_is_a_declassification_naming_field_and_tag() -> None:
    old = avro_record(tagged("id"), tagged("email", "PII.email"))
    new = avro_record(tagged("id"), tagged("email"))
    [only] = declassifications(old, new)
    assert only == Declassification("email", ("PII.email",), "email")
    assert str(only) == "field 'email' loses tag PII.email"


def test_replacing_a_tag_by_its_ancestor_is_a_declassification() -> None:
    old = avro_record(tagged("email", "PII.email"))
    assert found(old, avro_record(tagged("email", "PII"))) == [("email", ("PII.email",), "email")]


def test_adding_or_narrowing_tags_is_not_a_declassification() -> None:
    old = avro_record(tagged("id"), tagged("email", "PII"))
    new = avro_record(tagged("id", "PUBLIC"), tagged("email", "PII.email"))
    assert found(old, new) == []


def test_removing_a_tagged_field_altogether_is_not_a_declassification() -> None:
    old = avro_record(tagged("id"), tagged("email", "PII.email"))
    assert found(old, avro_record(tagged("id"))) == []


def test_renaming_a_field_with_an_alias_carries_its_tags_so_dropping_them_is_caught() -> None:
    old = avro_record(tagged("id"), tagged("email", "PII.email"))
    laundered = avro_record(tagged("id"), tagged("contact", aliases=["email"]))
    assert found(old, laundered) == [("email", ("PII.email",), "contact")]
    assert str(declassifications(old, laundered)[0]) == (
        "field 'email' loses tag PII.email (renamed to 'contact')"
    )
    kept = avro_record(tagged("id"), tagged("contact", "PII.email", aliases=["email"]))
    assert found(old, kept) == []


def test_a_nested_field_renamed_through_an_aliased_parent_is_followed() -> None:
    address = record(tagged("street", "PII.address"), name="Address")
    old = avro_record(field("home", address))
    renamed = record(tagged("street"), name="Address")
    new = avro_record(field("residence", renamed, aliases=["home"]))
    assert found(old, new) == [("home.street", ("PII.address",), "residence.street")]


def test_protobuf_fields_are_followed_by_number_across_a_rename() -> None:
    old = proto_message(
        'string id = 1; string email = 2 [(confluent.field_meta).tags = "PII.email"];', extra=META
    )
    renamed = proto_message("string id = 1; string contact = 2;", extra=META)
    assert found(old, renamed) == [("email", ("PII.email",), "contact")]
    renumbered = proto_message("string id = 1; reserved 2; string email = 3;", extra=META)
    assert found(old, renumbered) == []


def test_json_schema_property_losing_its_tag_is_a_declassification() -> None:
    def doc(*tags: str) -> ParsedSchema:
        email: dict[str, Any] = {"type": "string", **({"confluent:tags": list(tags)} if tags else {})}
        return json_schema({"type": "object", "properties": {"email": email}})

    assert found(doc("PII.email"), doc("PII")) == [("email", ("PII.email",), "email")]
    assert found(doc("PII"), doc("PII", "PII.email")) == []


def test_field_classes_name_every_field_by_its_reading_key_with_its_tags() -> None:
    schema = avro_record(tagged("id"), tagged("email", "PII.email"))
    assert field_classes(schema) == [FieldClass("AVRO", "email", "email", ("PII.email",))]
    assert field_classes(schema, untagged=True) == [
        FieldClass("AVRO", "email", "email", ("PII.email",)),
        FieldClass("AVRO", "id", "id", ()),
    ]
    proto = proto_message('string email = 2 [(confluent.field_meta).tags = "PII"];', extra=META)
    assert field_classes(proto) == [FieldClass("PROTOBUF", "#2", "email", ("PII",))]


def test_remembered_tags_are_followed_by_key_within_a_type_and_by_path_across_types() -> None:
    remembered = [FieldClass("PROTOBUF", "#2", "email", ("PII.email",))]
    renamed = proto_message("string id = 1; string contact = 2;", extra=META)
    assert [(d.field, d.removed, d.now) for d in lost_tags(remembered, renamed)] == [
        ("email", ("PII.email",), "contact")
    ]
    as_avro = avro_record(tagged("email", "PII"))
    assert [(d.field, d.removed, d.now) for d in lost_tags(remembered, as_avro)] == [
        ("email", ("PII.email",), "email")
    ]
    assert lost_tags(remembered, avro_record(tagged("email", "PII.email"))) == []
    from_avro = [FieldClass("AVRO", "email", "email", ("PII.email",))]
    assert [d.now for d in lost_tags(from_avro, proto_message("string email = 2;", extra=META))] == ["email"]
