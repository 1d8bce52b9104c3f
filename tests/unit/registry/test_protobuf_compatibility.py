"""Protobuf compatibility by wire rules: numbers, types, labels, oneofs, reservations."""

from __future__ import annotations

import pytest

from registry.compatibility import CompatibilityLevel, check_compatibility
from tests.unit.registry.helpers import proto, proto_message

BACKWARD = CompatibilityLevel.BACKWARD
FORWARD = CompatibilityLevel.FORWARD
FULL = CompatibilityLevel.FULL


def kinds(level: CompatibilityLevel, old_body: str, new_body: str) -> list[str]:
    result = check_compatibility(level, proto_message(new_body), [proto_message(old_body)])
    return [i.kind for i in result.incompatibilities]


def test_adding_a_field_is_fully_compatible() -> None:
    assert kinds(FULL, "string id = 1;", "string id = 1; string email = 2;") == []


def test_identical_schemas_are_compatible_at_every_level() -> None:
    for level in CompatibilityLevel:
        assert kinds(level, "string id = 1;", "string id = 1;") == []


def test_removed_field_not_reserved_is_incompatible_and_reserved_is_not() -> None:
    old = "string id = 1; string email = 2;"
    result = check_compatibility(BACKWARD, proto_message("string id = 1;"), [proto_message(old)])
    [problem] = result.incompatibilities
    assert problem.kind == "field-removed-not-reserved"
    assert problem.path == "/messages/User/fields/email"
    assert "email (2)" in problem.message
    assert "number and name" in problem.message
    assert kinds(BACKWARD, old, 'string id = 1; reserved 2; reserved "email";') == []
    assert kinds(BACKWARD, old, "string id = 1; reserved 2;") == ["field-removed-not-reserved"]
    assert kinds(FULL, old, 'string id = 1; reserved 2 to 5; reserved "email";') == []


def test_field_number_reused_with_another_type_is_incompatible() -> None:
    assert kinds(BACKWARD, "string id = 1; string email = 2;", "string id = 1; int32 email = 2;") == [
        "field-type-changed"
    ]


def test_field_number_reused_with_another_name_breaks_json() -> None:
    assert kinds(FULL, "string id = 1; string email = 2;", "string id = 1; string mail = 2;") == [
        "field-name-changed",
        "field-name-changed",
    ]


@pytest.mark.parametrize(("old", "new"), [("int32", "int64"), ("uint32", "uint64"), ("sint32", "sint64")])
def test_widening_integers_is_backward_but_not_forward_compatible(old: str, new: str) -> None:
    assert kinds(BACKWARD, f"{old} n = 1;", f"{new} n = 1;") == []
    assert kinds(FORWARD, f"{old} n = 1;", f"{new} n = 1;") == ["field-type-changed"]


@pytest.mark.parametrize(("old", "new"), [("int32", "sint32"), ("fixed32", "int32"), ("bool", "string")])
def test_wire_incompatible_type_changes_are_rejected(old: str, new: str) -> None:
    assert kinds(BACKWARD, f"{old} n = 1;", f"{new} n = 1;") == ["field-type-changed"]


def test_repeated_to_singular_is_incompatible() -> None:
    assert kinds(BACKWARD, "repeated string tags = 1;", "string tags = 1;") == ["field-label-changed"]


def test_moving_a_field_into_a_oneof_is_incompatible() -> None:
    old = "string email = 1; string phone = 2;"
    new = "oneof contact { string email = 1; string phone = 2; }"
    assert set(kinds(BACKWARD, old, new)) == {"field-oneof-changed"}
    assert set(kinds(BACKWARD, new, old)) == {"field-oneof-changed"}


def test_proto3_optional_is_not_treated_as_a_oneof() -> None:
    assert kinds(FULL, "string email = 1;", "optional string email = 1;") == []


def test_enum_value_removed_without_reservation_is_incompatible() -> None:
    enum = "enum Status { STATUS_UNSPECIFIED = 0; ACTIVE = 1; %s }\n Status status = 1;"
    old = proto_message(enum % "BLOCKED = 2;")
    removed = proto_message(enum % "")
    reserved = proto_message(enum % 'reserved 2; reserved "BLOCKED";')
    [problem] = check_compatibility(BACKWARD, removed, [old]).incompatibilities
    assert problem.kind == "enum-value-removed"
    assert problem.path == "/enums/User.Status/values/BLOCKED"
    assert check_compatibility(BACKWARD, reserved, [old]).compatible
    assert check_compatibility(FULL, old, [reserved]).compatible


def test_removing_a_top_level_message_is_incompatible_but_adding_one_is_not() -> None:
    two = proto('syntax = "proto3"; message A { int32 x = 1; } message B { int32 y = 1; }')
    one = proto('syntax = "proto3"; message A { int32 x = 1; }')
    removed = check_compatibility(BACKWARD, one, [two]).incompatibilities
    assert [i.kind for i in removed] == ["message-removed"]
    assert check_compatibility(FULL, two, [one]).compatible


def test_nested_message_field_change_is_reported_at_its_path() -> None:
    old = "message Address { string country = 1; } Address address = 1;"
    new = "message Address { int64 country = 1; } Address address = 1;"
    result = check_compatibility(BACKWARD, proto_message(new), [proto_message(old)])
    assert [i.path for i in result.incompatibilities] == ["/messages/User.Address/fields/country/type"]


def test_changing_a_field_message_type_is_incompatible() -> None:
    old = "message A { int32 x = 1; } message B { int32 x = 1; } A v = 1;"
    new = "message A { int32 x = 1; } message B { int32 x = 1; } B v = 1;"
    assert kinds(BACKWARD, old, new) == ["field-type-changed"]


def test_proto2_required_field_added_is_backward_incompatible() -> None:
    old = proto('syntax = "proto2"; message M { optional int32 a = 1; }')
    new = proto('syntax = "proto2"; message M { optional int32 a = 1; required int32 b = 2; }')
    assert [i.kind for i in check_compatibility(BACKWARD, new, [old]).incompatibilities] == [
        "required-field-added"
    ]
    assert check_compatibility(FORWARD, new, [old]).compatible


def test_transitive_protobuf_check_sees_a_number_reused_across_versions() -> None:
    v1 = proto_message("string id = 1; string email = 2;")
    v2 = proto_message("string id = 1; reserved 2;")
    v3 = proto_message("string id = 1; int64 email = 2;")
    assert check_compatibility(BACKWARD, v3, [v1, v2]).compatible
    result = check_compatibility(CompatibilityLevel.BACKWARD_TRANSITIVE, v3, [v1, v2])
    assert [i.kind for i in result.incompatibilities] == ["field-type-changed"]


def test_renaming_an_enum_value_breaks_json() -> None:
    enum = "enum Status { STATUS_UNSPECIFIED = 0; %s = 1; }\n Status status = 1;"
    result = check_compatibility(FULL, proto_message(enum % "ENABLED"), [proto_message(enum % "ACTIVE")])
    assert {i.kind for i in result.incompatibilities} == {"enum-value-renamed"}
