"""Avro compatibility by the spec's resolution rules, checked through the level dispatcher."""

from __future__ import annotations

import pytest

from registry.compatibility import CompatibilityLevel, can_read, check_compatibility
from tests.unit.registry.helpers import avro, avro_record, field, json_schema

BACKWARD = CompatibilityLevel.BACKWARD
FORWARD = CompatibilityLevel.FORWARD
FULL = CompatibilityLevel.FULL


@pytest.mark.parametrize(
    ("writer", "reader"),
    [
        ("int", "long"),
        ("int", "float"),
        ("int", "double"),
        ("long", "float"),
        ("long", "double"),
        ("float", "double"),
        ("string", "bytes"),
        ("bytes", "string"),
    ],
)
def test_each_spec_promotion_lets_the_reader_read_the_writer(writer: str, reader: str) -> None:
    assert can_read(avro(reader), avro(writer)) == []


@pytest.mark.parametrize(("writer", "reader"), [("long", "int"), ("double", "float"), ("string", "int")])
def test_narrowing_a_primitive_is_a_type_mismatch(writer: str, reader: str) -> None:
    [problem] = can_read(avro(reader), avro(writer))
    assert problem.kind == "type-mismatch"
    assert problem.path == "/"


def test_promoted_field_type_is_backward_but_not_forward_compatible() -> None:
    old = avro_record(field("age", "int"))
    new = avro_record(field("age", "long"))
    assert check_compatibility(BACKWARD, new, [old]).compatible
    result = check_compatibility(FORWARD, new, [old])
    assert [i.path for i in result.incompatibilities] == ["/fields/age/type"]


def test_adding_field_with_default_is_fully_compatible() -> None:
    old = avro_record(field("id", "string"))
    new = avro_record(field("id", "string"), field("email", ["null", "string"], default=None))
    assert check_compatibility(FULL, new, [old]).compatible


def test_adding_field_without_default_is_backward_incompatible() -> None:
    old = avro_record(field("id", "string"))
    new = avro_record(field("id", "string"), field("email", "string"))
    result = check_compatibility(BACKWARD, new, [old])
    [problem] = result.incompatibilities
    assert problem.path == "/fields/email"
    assert problem.kind == "field-missing-without-default"
    assert "no default" in problem.message
    assert check_compatibility(FORWARD, new, [old]).compatible


def test_removing_field_without_default_is_forward_incompatible() -> None:
    old = avro_record(field("id", "string"), field("email", "string"))
    new = avro_record(field("id", "string"))
    assert check_compatibility(BACKWARD, new, [old]).compatible
    assert not check_compatibility(FORWARD, new, [old]).compatible


def _enum(*symbols: str, **extra: object) -> dict[str, object]:
    return {"type": "enum", "name": "Color", "symbols": list(symbols), **extra}


def test_enum_symbol_added_breaks_old_readers_without_default() -> None:
    old = avro_record(field("color", _enum("RED", "GREEN")))
    new = avro_record(field("color", _enum("RED", "GREEN", "BLUE")))
    assert check_compatibility(BACKWARD, new, [old]).compatible
    [problem] = check_compatibility(FORWARD, new, [old]).incompatibilities
    assert problem.kind == "enum-symbol-missing"
    assert "BLUE" in problem.message
    assert problem.path == "/fields/color/type/symbols"


def test_enum_symbol_added_is_forward_compatible_when_reader_has_default() -> None:
    old = avro_record(field("color", _enum("UNKNOWN", "RED", default="UNKNOWN")))
    new = avro_record(field("color", _enum("UNKNOWN", "RED", "BLUE", default="UNKNOWN")))
    assert check_compatibility(FULL, new, [old]).compatible


def test_enum_symbol_removed_is_backward_incompatible_without_default() -> None:
    old = avro_record(field("color", _enum("RED", "GREEN")))
    new = avro_record(field("color", _enum("RED")))
    assert not check_compatibility(BACKWARD, new, [old]).compatible


def test_union_widened_is_backward_compatible_and_narrowed_is_not() -> None:
    narrow = avro_record(field("v", ["null", "string"]))
    wide = avro_record(field("v", ["null", "string", "int"]))
    assert check_compatibility(BACKWARD, wide, [narrow]).compatible
    result = check_compatibility(BACKWARD, narrow, [wide])
    assert [i.kind for i in result.incompatibilities] == ["union-branch-missing"]
    assert "int" in result.incompatibilities[0].message


def test_non_union_reader_reads_union_writer_only_if_every_branch_fits() -> None:
    assert can_read(avro("long"), avro(["int", "long"])) == []
    assert can_read(avro("long"), avro(["null", "long"])) != []


def test_reader_union_accepts_writer_through_promotion() -> None:
    assert can_read(avro(["null", "double"]), avro("int")) == []


def test_field_rename_with_alias_is_backward_compatible() -> None:
    old = avro_record(field("mail", "string"))
    new = avro_record(field("email", "string", aliases=["mail"]))
    assert check_compatibility(BACKWARD, new, [old]).compatible
    renamed_without_alias = avro_record(field("email", "string"))
    assert not check_compatibility(BACKWARD, renamed_without_alias, [old]).compatible


def test_record_rename_needs_an_alias() -> None:
    old = avro_record(field("id", "string"))
    renamed = avro_record(field("id", "string"), name="Customer")
    aliased = avro_record(field("id", "string"), name="Customer", aliases=["User"])
    [problem] = can_read(renamed, old)
    assert problem.kind == "name-mismatch"
    assert can_read(aliased, old) == []


def test_fixed_size_change_is_incompatible_both_ways() -> None:
    old = avro_record(field("hash", {"type": "fixed", "name": "Hash", "size": 16}))
    new = avro_record(field("hash", {"type": "fixed", "name": "Hash", "size": 32}))
    result = check_compatibility(FULL, new, [old])
    assert {i.kind for i in result.incompatibilities} == {"fixed-size-changed"}
    assert result.incompatibilities[0].path == "/fields/hash/type/size"


def test_nested_record_change_reports_nested_path() -> None:
    def address(*fields: dict[str, object]) -> dict[str, object]:
        return field("address", {"type": "record", "name": "Address", "fields": list(fields)})

    old = avro_record(address(field("city", "string")))
    new = avro_record(address(field("city", "string"), field("country", "string")))
    [problem] = check_compatibility(BACKWARD, new, [old]).incompatibilities
    assert problem.path == "/fields/address/type/fields/country"


def test_arrays_and_maps_compare_their_element_types() -> None:
    assert can_read(avro({"type": "array", "items": "long"}), avro({"type": "array", "items": "int"})) == []
    [problem] = can_read(avro({"type": "map", "values": "int"}), avro({"type": "map", "values": "string"}))
    assert problem.path == "/values"


def test_recursive_records_are_checked_without_looping() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "fields": [{"name": "next", "type": ["null", "Node"]}, {"name": "v", "type": "int"}],
    }
    assert can_read(avro(node), avro(node)) == []


def test_different_schema_types_are_incompatible() -> None:
    result = check_compatibility(BACKWARD, json_schema({"type": "string"}), [avro("string")])
    assert [i.kind for i in result.incompatibilities] == ["schema-type-changed"]


def test_none_level_accepts_anything() -> None:
    assert check_compatibility(CompatibilityLevel.NONE, avro("string"), [avro("int")]).compatible


def test_transitive_level_checks_every_version_while_plain_checks_the_latest() -> None:
    v1 = avro_record(field("id", "string"))
    v2 = avro_record(field("id", "string"), field("email", "string", default=""))
    v3 = avro_record(field("id", "string"), field("email", "string"))
    assert check_compatibility(BACKWARD, v3, [v1, v2]).compatible
    result = check_compatibility(CompatibilityLevel.BACKWARD_TRANSITIVE, v3, [v1, v2])
    assert [i.path for i in result.incompatibilities] == ["/fields/email"]


@pytest.mark.parametrize(
    ("level", "compatible"),
    [
        (CompatibilityLevel.FORWARD, True),
        (CompatibilityLevel.FORWARD_TRANSITIVE, False),
        (CompatibilityLevel.FULL, True),
        (CompatibilityLevel.FULL_TRANSITIVE, False),
    ],
)
def test_forward_and_full_transitive_catch_what_the_latest_hides(
    level: CompatibilityLevel, compatible: bool
) -> None:
    v1 = avro_record(field("id", "string"), field("email", "string"))
    v2 = avro_record(field("id", "string"), field("email", "string", default=""))
    v3 = avro_record(field("id", "string"), field("x", "int", default=0))
    assert check_compatibility(level, v3, [v1, v2]).compatible is compatible


def test_changing_the_meaning_of_a_logical_type_is_incompatible() -> None:
    millis = avro({"type": "long", "logicalType": "timestamp-millis"})
    micros = avro({"type": "long", "logicalType": "timestamp-micros"})
    [problem] = can_read(micros, millis)
    assert problem.kind == "logical-type-changed"
    assert can_read(avro("long"), millis) == []
    assert can_read(millis, avro("long")) == []


def test_decimal_scale_change_is_incompatible_but_precision_growth_is_not() -> None:
    def decimal(precision: int, scale: int) -> dict[str, object]:
        return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}

    assert can_read(avro(decimal(10, 2)), avro(decimal(8, 2))) == []
    [problem] = can_read(avro(decimal(10, 3)), avro(decimal(10, 2)))
    assert problem.kind == "decimal-scale-changed"


def test_enum_rename_needs_an_alias() -> None:
    old = avro({"type": "enum", "name": "Color", "symbols": ["RED"]})
    renamed = avro({"type": "enum", "name": "Colour", "symbols": ["RED"]})
    aliased = avro({"type": "enum", "name": "Colour", "symbols": ["RED"], "aliases": ["Color"]})
    assert [i.kind for i in can_read(renamed, old)] == ["name-mismatch"]
    assert can_read(aliased, old) == []


def test_record_inside_map_inside_union_reports_the_full_path() -> None:
    def doc(inner: list[dict[str, object]]) -> dict[str, object]:
        item = {"type": "record", "name": "Item", "fields": inner}
        return field("items", ["null", {"type": "map", "values": item}], default=None)

    old = avro_record(doc([field("n", "int")]))
    new = avro_record(doc([field("n", "int"), field("m", "int")]))
    [problem] = can_read(new, old)
    assert problem.path == "/fields/items/type/1/values/fields/m"


def test_union_of_records_matches_branches_by_name() -> None:
    a = {"type": "record", "name": "A", "fields": [field("x", "int")]}
    b = {"type": "record", "name": "B", "fields": [field("y", "string")]}
    assert can_read(avro([a, b]), avro([b, a])) == []
    assert [i.kind for i in can_read(avro([a]), avro([a, b]))] == ["union-branch-missing"]
