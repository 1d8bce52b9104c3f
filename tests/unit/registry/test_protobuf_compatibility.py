"""Protobuf compatibility = Confluent's ``protobuf.diff`` rules; each test names the Difference.Type it cites.

Confluent compares ``original`` (the writer) with ``update`` (the reader) and refuses any difference outside
``SchemaDiff.COMPATIBLE_CHANGES``. BACKWARD puts the old schema in the writer's place, FORWARD the new one.
"""

from __future__ import annotations

import pytest

from registry.compatibility import CompatibilityLevel, check_compatibility
from registry.compatibility.protobuf import COMPATIBLE_CHANGES, Difference, differences
from registry.schemas.protobuf import ProtobufSchema
from tests.unit.registry.helpers import proto, proto_message

BACKWARD = CompatibilityLevel.BACKWARD
FORWARD = CompatibilityLevel.FORWARD
FULL = CompatibilityLevel.FULL


def kinds(level: CompatibilityLevel, old_body: str, new_body: str) -> list[str]:
    result = check_compatibility(level, proto_message(new_body), [proto_message(old_body)])
    return [i.kind for i in result.incompatibilities]


def found(old_body: str, new_body: str) -> set[Difference]:
    """Every difference Confluent reports from ``old`` (original) to ``new`` (update), compatible or not."""
    old, new = proto_message(old_body), proto_message(new_body)
    assert isinstance(old, ProtobufSchema)
    assert isinstance(new, ProtobufSchema)
    return {change.type for change in differences(old, new)}


def test_compatible_changes_are_confluents_set() -> None:
    assert {d.value for d in COMPATIBLE_CHANGES} == {
        "MESSAGE_ADDED", "MESSAGE_MOVED", "ENUM_ADDED", "ENUM_REMOVED", "ENUM_CONST_ADDED",
        "ENUM_CONST_CHANGED", "ENUM_CONST_REMOVED", "FIELD_ADDED", "FIELD_REMOVED", "FIELD_NAME_CHANGED",
        "FIELD_STRING_OR_BYTES_LABEL_CHANGED", "ONEOF_ADDED", "ONEOF_REMOVED", "ONEOF_FIELD_ADDED",
        "ONEOF_FIELD_MOVED_TO_TOP_LEVEL",
    }  # fmt: skip


def test_identical_schemas_are_compatible_at_every_level() -> None:
    for level in CompatibilityLevel:
        assert kinds(level, "string id = 1;", "string id = 1;") == []


def test_adding_a_field_is_fully_compatible() -> None:
    """Confluent FIELD_ADDED (compatible); the other direction is FIELD_REMOVED (compatible)."""
    assert found("string id = 1;", "string id = 1; string email = 2;") == {Difference.FIELD_ADDED}
    assert kinds(FULL, "string id = 1;", "string id = 1; string email = 2;") == []


def test_removing_a_field_without_reserving_it_is_compatible_at_every_level() -> None:
    """Confluent FIELD_REMOVED (compatible): no reservation needed; lint rule proto.field-removed-reserved."""
    old, new = "string id = 1; string email = 2;", "string id = 1;"
    assert found(old, new) == {Difference.FIELD_REMOVED}
    for level in CompatibilityLevel:
        assert kinds(level, old, new) == []


def test_changed_field_number_for_the_same_name_is_a_removal_and_an_addition() -> None:
    """Confluent compares fields by tag: FIELD_REMOVED + FIELD_ADDED, both compatible."""
    old, new = "string id = 1; string email = 2;", "string id = 1; string email = 3;"
    assert found(old, new) == {Difference.FIELD_REMOVED, Difference.FIELD_ADDED}
    assert kinds(FULL, old, new) == []


def test_renaming_a_field_keeps_its_number_and_is_compatible() -> None:
    """Confluent FIELD_NAME_CHANGED (compatible); lint rule proto.json-name-stable keeps buf's WIRE_JSON."""
    old, new = "string id = 1; string email = 2;", "string id = 1; string mail = 2;"
    assert found(old, new) == {Difference.FIELD_NAME_CHANGED}
    assert kinds(FULL, old, new) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("int32", "int64"), ("int32", "uint64"), ("uint32", "bool"), ("int64", "uint32"),
        ("sint32", "sint64"), ("fixed32", "sfixed32"), ("fixed64", "sfixed64"), ("string", "bytes"),
    ],
)  # fmt: skip
def test_type_change_within_a_wire_group_is_fully_compatible(old: str, new: str) -> None:
    """Confluent ScalarKind groups: GENERAL_NUMBER, SIGNED_NUMBER, FIXED32, FIXED64, STRING_OR_BYTES."""
    assert found(f"{old} n = 1;", f"{new} n = 1;") == set()
    assert kinds(FULL, f"{old} n = 1;", f"{new} n = 1;") == []


def test_enum_and_integer_share_the_varint_group() -> None:
    """Confluent scalarKind: an enum is GENERAL_NUMBER, like int32."""
    enum = "enum Status { STATUS_UNSPECIFIED = 0; }\n"
    assert kinds(FULL, enum + "Status n = 1;", enum + "int32 n = 1;") == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("int32", "sint32"),
        ("fixed32", "int32"),
        ("fixed32", "fixed64"),
        ("float", "double"),
        ("bool", "string"),
    ],
)
def test_type_change_across_wire_groups_is_incompatible(old: str, new: str) -> None:
    """Confluent FIELD_SCALAR_KIND_CHANGED (incompatible)."""
    assert kinds(BACKWARD, f"{old} n = 1;", f"{new} n = 1;") == ["FIELD_SCALAR_KIND_CHANGED"]
    assert kinds(FORWARD, f"{old} n = 1;", f"{new} n = 1;") == ["FIELD_SCALAR_KIND_CHANGED"]


def test_scalar_to_message_is_incompatible() -> None:
    """Confluent FIELD_KIND_CHANGED (incompatible): SCALAR, MESSAGE and MAP are different kinds."""
    msg = "message Box { string v = 1; }\n"
    assert kinds(BACKWARD, msg + "string n = 1;", msg + "Box n = 1;") == ["FIELD_KIND_CHANGED"]
    assert kinds(BACKWARD, "map<string, string> n = 1;", "string n = 1;") == ["FIELD_KIND_CHANGED"]


@pytest.mark.parametrize("typ", ["string", "bytes", "Box"])
def test_optional_to_repeated_is_compatible_for_string_bytes_and_messages(typ: str) -> None:
    """Confluent FIELD_STRING_OR_BYTES_LABEL_CHANGED (compatible); message fields compare no label."""
    msg = "message Box { string v = 1; }\n"
    assert kinds(FULL, f"{msg}optional {typ} n = 1;", f"{msg}repeated {typ} n = 1;") == []


def test_optional_to_repeated_is_incompatible_for_numbers() -> None:
    """Confluent FIELD_NUMERIC_LABEL_CHANGED (incompatible)."""
    assert kinds(BACKWARD, "optional int32 n = 1;", "repeated int32 n = 1;") == [
        "FIELD_NUMERIC_LABEL_CHANGED"
    ]
    assert kinds(FORWARD, "repeated double n = 1;", "optional double n = 1;") == [
        "FIELD_NUMERIC_LABEL_CHANGED"
    ]


def test_proto3_implicit_label_is_no_label() -> None:
    """Confluent ProtobufSchema.label(): a proto3 field without a keyword has no label, so none compares."""
    assert kinds(FULL, "int32 n = 1;", "repeated int32 n = 1;") == []
    assert kinds(FULL, "string email = 1;", "optional string email = 1;") == []


def test_changing_a_fields_message_type_name_is_incompatible() -> None:
    """Confluent FIELD_NAMED_TYPE_CHANGED (incompatible), even when both types have the same fields."""
    old = "message A { int32 x = 1; } message B { int32 x = 1; } A v = 1;"
    new = "message A { int32 x = 1; } message B { int32 x = 1; } B v = 1;"
    assert kinds(BACKWARD, old, new) == ["FIELD_NAMED_TYPE_CHANGED"]


def test_changing_an_enum_type_name_is_compatible_as_both_are_varints() -> None:
    """Confluent compares an enum field as a SCALAR of kind GENERAL_NUMBER, not by its type name."""
    enums = "enum A { A_UNSPECIFIED = 0; } enum B { B_UNSPECIFIED = 0; }\n"
    assert kinds(FULL, enums + "A v = 1;", enums + "B v = 1;") == []


def test_nested_message_field_change_is_reported_at_its_path() -> None:
    """Confluent recurses into a message-typed field: FIELD_SCALAR_KIND_CHANGED inside, then
    FIELD_NAMED_TYPE_CHANGED on the field that holds it (Confluent's order)."""
    old = "message Address { string country = 1; } Address address = 1;"
    new = "message Address { int64 country = 1; } Address address = 1;"
    result = check_compatibility(BACKWARD, proto_message(new), [proto_message(old)])
    assert [(i.path, i.kind) for i in result.incompatibilities] == [
        ("/messages/User.Address/fields/country/type", "FIELD_SCALAR_KIND_CHANGED"),
        ("/messages/User/fields/address/type", "FIELD_NAMED_TYPE_CHANGED"),
    ]
    assert result.incompatibilities[0].message.startswith(
        "FIELD_SCALAR_KIND_CHANGED at /messages/User.Address/fields/country/type:"
    )


def test_map_value_type_change_is_compared_as_a_scalar() -> None:
    """Confluent compareMapTypes: key and value types compare like fields without labels."""
    assert kinds(FULL, "map<string, int32> m = 1;", "map<string, int64> m = 1;") == []
    assert kinds(BACKWARD, "map<string, int32> m = 1;", "map<string, string> m = 1;") == [
        "FIELD_SCALAR_KIND_CHANGED"
    ]


def test_removing_or_renaming_a_message_is_incompatible_but_adding_one_is_not() -> None:
    """Confluent MESSAGE_REMOVED (incompatible) and MESSAGE_ADDED (compatible); a rename is both."""
    two = proto('syntax = "proto3"; message A { int32 x = 1; } message B { int32 y = 1; }')
    one = proto('syntax = "proto3"; message A { int32 x = 1; }')
    renamed = proto('syntax = "proto3"; message A { int32 x = 1; } message C { int32 y = 1; }')
    removed = check_compatibility(BACKWARD, one, [two]).incompatibilities
    assert [(i.path, i.kind) for i in removed] == [("/messages/B", "MESSAGE_REMOVED")]
    assert [i.kind for i in check_compatibility(BACKWARD, renamed, [two]).incompatibilities] == [
        "MESSAGE_REMOVED"
    ]
    assert check_compatibility(BACKWARD, two, [one]).compatible
    assert not check_compatibility(FORWARD, two, [one]).compatible


def test_removing_a_referenced_message_is_incompatible() -> None:
    """Confluent MESSAGE_REMOVED for the nested type, FIELD_KIND_CHANGED for the field now a scalar."""
    old = "message Address { string country = 1; } Address address = 1;"
    assert set(kinds(BACKWARD, old, "string address = 1;")) == {"MESSAGE_REMOVED", "FIELD_KIND_CHANGED"}


def test_reordering_messages_is_compatible() -> None:
    """Confluent MESSAGE_MOVED (compatible): message indexes are read against the writer's schema id."""
    ab = proto('syntax = "proto3"; message A { int32 x = 1; } message B { int32 y = 1; }')
    ba = proto('syntax = "proto3"; message B { int32 y = 1; } message A { int32 x = 1; }')
    assert check_compatibility(FULL, ba, [ab]).compatible


def test_changing_the_package_is_incompatible() -> None:
    """Confluent PACKAGE_CHANGED (incompatible)."""
    old = proto('syntax = "proto3"; package a; message M { int32 x = 1; }')
    new = proto('syntax = "proto3"; package b; message M { int32 x = 1; }')
    assert [i.kind for i in check_compatibility(BACKWARD, new, [old]).incompatibilities] == [
        "PACKAGE_CHANGED"
    ]


def test_enum_changes_are_compatible() -> None:
    """Confluent ENUM_CONST_REMOVED, ENUM_CONST_ADDED, ENUM_CONST_CHANGED, ENUM_ADDED, ENUM_REMOVED (all
    compatible); lint rules proto.enum-value-removed-reserved and proto.json-name-stable keep buf's rules."""
    enum = "enum Status { STATUS_UNSPECIFIED = 0; ACTIVE = 1; %s }\n Status status = 1;"
    assert found(enum % "BLOCKED = 2;", enum % "") == {Difference.ENUM_CONST_REMOVED}
    assert found(enum % "", enum % "BLOCKED = 2;") == {Difference.ENUM_CONST_ADDED}
    assert found(enum % "BLOCKED = 2;", enum % "SUSPENDED = 2;") == {Difference.ENUM_CONST_CHANGED}
    assert kinds(FULL, enum % "BLOCKED = 2;", enum % "") == []
    assert kinds(FULL, enum % "BLOCKED = 2;", enum % "SUSPENDED = 2;") == []
    extra = "enum Other { OTHER_UNSPECIFIED = 0; }"
    assert found("string id = 1;", f"string id = 1; {extra}") == {Difference.ENUM_ADDED}
    assert kinds(FULL, f"string id = 1; {extra}", "string id = 1;") == []


def test_moving_fields_into_a_new_oneof_is_backward_incompatible() -> None:
    """Confluent MULTIPLE_FIELDS_MOVED_TO_ONEOF (incompatible); the reverse is ONEOF_FIELD_MOVED_TO_TOP_LEVEL
    and ONEOF_REMOVED (compatible)."""
    old = "string email = 1; string phone = 2;"
    new = "oneof contact { string email = 1; string phone = 2; }"
    assert kinds(BACKWARD, old, new) == ["MULTIPLE_FIELDS_MOVED_TO_ONEOF"]
    assert found(new, old) == {Difference.ONEOF_FIELD_MOVED_TO_TOP_LEVEL, Difference.ONEOF_REMOVED}
    assert kinds(FORWARD, old, new) == []


def test_moving_one_field_into_an_existing_oneof_is_incompatible() -> None:
    """Confluent FIELD_MOVED_TO_EXISTING_ONEOF (incompatible)."""
    old = "oneof contact { string email = 1; } string phone = 2;"
    new = "oneof contact { string email = 1; string phone = 2; }"
    assert kinds(BACKWARD, old, new) == ["FIELD_MOVED_TO_EXISTING_ONEOF"]


def test_oneof_members_added_and_removed() -> None:
    """Confluent ONEOF_FIELD_ADDED (compatible), ONEOF_FIELD_REMOVED (incompatible), and a whole oneof
    removed is ONEOF_REMOVED (compatible)."""
    one = "oneof contact { string email = 1; }"
    two = "oneof contact { string email = 1; string phone = 2; }"
    assert found(one, two) == {Difference.ONEOF_FIELD_ADDED}
    assert kinds(BACKWARD, two, one) == ["ONEOF_FIELD_REMOVED"]
    assert kinds(BACKWARD, f"string id = 3; {two}", "string id = 3;") == []


def test_proto2_required_field_added_or_removed_is_incompatible() -> None:
    """Confluent REQUIRED_FIELD_ADDED and REQUIRED_FIELD_REMOVED (both incompatible): FORWARD refuses too."""
    old = proto('syntax = "proto2"; message M { optional int32 a = 1; }')
    new = proto('syntax = "proto2"; message M { optional int32 a = 1; required int32 b = 2; }')
    assert [i.kind for i in check_compatibility(BACKWARD, new, [old]).incompatibilities] == [
        "REQUIRED_FIELD_ADDED"
    ]
    assert [i.kind for i in check_compatibility(FORWARD, new, [old]).incompatibilities] == [
        "REQUIRED_FIELD_REMOVED"
    ]


def test_transitive_protobuf_check_sees_a_number_reused_across_versions() -> None:
    """Confluent FIELD_SCALAR_KIND_CHANGED against version 1, which only a transitive level compares."""
    v1 = proto_message("string id = 1; string email = 2;")
    v2 = proto_message("string id = 1; reserved 2;")
    v3 = proto_message("string id = 1; int64 email = 2;")
    assert check_compatibility(BACKWARD, v3, [v1, v2]).compatible
    result = check_compatibility(CompatibilityLevel.BACKWARD_TRANSITIVE, v3, [v1, v2])
    assert [i.kind for i in result.incompatibilities] == ["FIELD_SCALAR_KIND_CHANGED"]


def test_referenced_type_is_compared_across_files() -> None:
    """Confluent compareMessageTypes: a type from a reference with the same local name is compared deeply."""
    dep_v1 = 'syntax = "proto3"; package com.dep; message Money { int64 cents = 1; }'
    dep_v2 = 'syntax = "proto3"; package com.dep; message Money { string cents = 1; }'
    main = 'syntax = "proto3"; package com.example; import "money.proto"; message P { com.dep.Money m = 1; }'
    old, new = proto(main, {"money.proto": dep_v1}), proto(main, {"money.proto": dep_v2})
    result = check_compatibility(BACKWARD, new, [old])
    assert {i.kind for i in result.incompatibilities} == {
        "FIELD_NAMED_TYPE_CHANGED",
        "FIELD_SCALAR_KIND_CHANGED",
    }
