"""Schema diffs: every change listed with a path and a class."""

from __future__ import annotations

from registry.diff import SchemaChange, diff_schemas
from registry.semver import ChangeClass
from tests.unit.registry.helpers import avro_record, field, json_schema, proto, proto_message

PATCH, MINOR, MAJOR = ChangeClass.PATCH, ChangeClass.MINOR, ChangeClass.MAJOR


def classes(changes: list[SchemaChange]) -> dict[str, ChangeClass]:
    return {change.path: change.change for change in changes}


def test_avro_diff_lists_each_field_change_with_its_class() -> None:
    color = {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}
    old = avro_record(
        field("id", "int"),
        field("email", "string"),
        field("color", color),
        field("gone", "string"),
    )
    new = avro_record(
        field("id", "long", doc="the id"),
        field("email", "string", **{"confluent:tags": ["PII.email"]}),
        field("color", {**color, "symbols": ["RED", "BLUE"]}),
        field("note", "string", default=""),
        field("must", "string"),
    )
    assert classes(diff_schemas(old, new)) == {
        "/fields/id/doc": PATCH,
        "/fields/id/type": MINOR,
        "/fields/email/confluent:tags": PATCH,
        "/fields/color/type/symbols/BLUE": MINOR,
        "/fields/color/type/symbols/GREEN": MAJOR,
        "/fields/note": MINOR,
        "/fields/must": MAJOR,
        "/fields/gone": MINOR,
    }


def test_avro_narrowing_and_default_changes() -> None:
    old = avro_record(field("n", "long", default=1))
    new = avro_record(field("n", "int", default=2))
    changes = diff_schemas(old, new)
    assert classes(changes) == {"/fields/n/default": MINOR, "/fields/n/type": MAJOR}
    assert "from 1 to 2" in changes[0].description


def test_identical_schemas_have_no_changes() -> None:
    schema = avro_record(field("id", "string"))
    assert diff_schemas(schema, schema) == []


def test_protobuf_diff_classes_fields_enums_and_tags() -> None:
    old = proto_message(
        "string id = 1; string email = 2; int32 n = 3; string gone = 4;",
        extra='import "confluent/meta.proto";',
    )
    new = proto_message(
        'string id = 1; string email = 2 [(confluent.field_meta).tags = "PII"]; int64 n = 3; '
        'reserved 4; reserved "gone"; bool flag = 5;',
        extra='import "confluent/meta.proto";',
    )
    assert classes(diff_schemas(old, new)) == {
        "/messages/User/fields/flag": MINOR,
        "/messages/User/fields/gone": MINOR,
        "/messages/User/fields/n/type": MINOR,
        "/messages/User/fields/email/tags": PATCH,
    }


def test_protobuf_diff_marks_type_change_major_and_unreserved_removal_minor() -> None:
    """Confluent FIELD_SCALAR_KIND_CHANGED is incompatible; FIELD_REMOVED is compatible, reserved or not."""
    old = proto_message("string id = 1; string email = 2;")
    new = proto_message("int32 id = 1;")
    assert classes(diff_schemas(old, new)) == {
        "/messages/User/fields/id/type": MAJOR,
        "/messages/User/fields/email": MINOR,
    }


def test_protobuf_diff_marks_removed_required_field_and_message_major() -> None:
    """Confluent REQUIRED_FIELD_REMOVED and MESSAGE_REMOVED are incompatible."""
    old = proto('syntax = "proto2"; message M { required int32 a = 1; } message N { optional int32 b = 1; }')
    new = proto('syntax = "proto2"; message M { optional int32 c = 2; }')
    assert classes(diff_schemas(old, new)) == {
        "/messages/M/fields/a": MAJOR,
        "/messages/M/fields/c": MINOR,
        "/messages/N": MAJOR,
    }


def test_json_diff_classes_required_types_and_descriptions() -> None:
    old = json_schema(
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "age": {"type": "number"}, "old": {}},
            "required": ["id"],
        }
    )
    new = json_schema(
        {
            "type": "object",
            "properties": {
                "id": {"type": "string", "description": "the id"},
                "age": {"type": "integer"},
                "email": {"type": "string"},
            },
            "required": ["id", "email"],
        }
    )
    assert classes(diff_schemas(old, new)) == {
        "/properties/id/description": PATCH,
        "/properties/age/type": MAJOR,
        "/properties/email": MAJOR,  # Confluent REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL
        "/properties/old": MINOR,  # Confluent PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL
        "/required/email": MAJOR,
    }


def test_different_types_are_one_major_change() -> None:
    [change] = diff_schemas(avro_record(field("id", "string")), json_schema({"type": "object"}))
    assert change.change is MAJOR


def test_protobuf_diff_ignores_types_that_only_arrive_with_a_new_import() -> None:
    old = proto_message("string id = 1;")
    new = proto_message(
        "string id = 1; google.protobuf.Timestamp at = 2;", extra='import "google/protobuf/timestamp.proto";'
    )
    assert classes(diff_schemas(old, new)) == {"/messages/User/fields/at": MINOR}


def test_json_diff_classes_a_property_added_to_a_closed_model_minor() -> None:
    """Confluent OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL is compatible; removal from a closed model
    (PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL) is not."""
    old = json_schema({"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": False})
    new = json_schema({"type": "object", "properties": {"a": {}, "c": {}}, "additionalProperties": False})
    assert classes(diff_schemas(old, new)) == {"/properties/b": MAJOR, "/properties/c": MINOR}
