"""JSON Schema compatibility = Confluent's ``json.diff`` rules (STRICT policy); each test names the
Difference.Type it cites. Confluent compares the writer (``original``) with the reader (``update``)."""

from __future__ import annotations

from typing import Any

import pytest

from registry.compatibility import CompatibilityLevel, can_read, check_compatibility
from registry.compatibility.jsonschema import differences
from registry.compatibility.jsonschema_rules import COMPATIBLE_CHANGES, Difference
from registry.schemas.jsonschema import JsonSchema
from tests.unit.registry.helpers import json_schema

BACKWARD = CompatibilityLevel.BACKWARD
FORWARD = CompatibilityLevel.FORWARD
FULL = CompatibilityLevel.FULL
STRING = {"type": "string"}


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **extra}


def problems(reader: Any, writer: Any) -> list[tuple[str, str]]:
    return [(i.path, i.kind) for i in can_read(json_schema(reader), json_schema(writer))]


def found(old: Any, new: Any) -> set[str]:
    """Every difference Confluent reports from ``old`` (original) to ``new`` (update), compatible or not."""
    before, after = json_schema(old), json_schema(new)
    assert isinstance(before, JsonSchema)
    assert isinstance(after, JsonSchema)
    return {c.type.value for c in differences(before, after)}


def kinds(level: CompatibilityLevel, old: Any, new: Any) -> list[str]:
    result = check_compatibility(level, json_schema(new), [json_schema(old)])
    return [i.kind for i in result.incompatibilities]


def test_compatible_changes_are_confluents_strict_set() -> None:
    assert len(COMPATIBLE_CHANGES) == 65
    assert Difference.OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL not in COMPATIBLE_CHANGES
    assert Difference.PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL in COMPATIBLE_CHANGES


def test_adding_a_property_to_an_open_model_is_backward_incompatible() -> None:
    """Confluent OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL (which replaced the deprecated
    PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL) is refused; the FORWARD direction is
    PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL, accepted."""
    old, new = obj({"id": STRING}), obj({"id": STRING, "email": STRING})
    result = check_compatibility(BACKWARD, json_schema(new), [json_schema(old)])
    [problem] = result.incompatibilities
    assert (problem.path, problem.kind) == (
        "/properties/email",
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    )
    assert problem.message == "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL at /properties/email"
    assert kinds(FORWARD, old, new) == []
    assert kinds(FULL, old, new) == ["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"]


def test_removing_a_property_from_an_open_model_is_forward_incompatible() -> None:
    """Confluent PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL (accepted) under BACKWARD; FORWARD compares the
    other way and finds OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL (refused); FULL refuses."""
    old, new = obj({"id": STRING, "email": STRING}), obj({"id": STRING})
    assert found(old, new) == {"PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"}
    assert kinds(BACKWARD, old, new) == []
    assert kinds(FORWARD, old, new) == ["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"]
    assert kinds(FULL, old, new) == ["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"]


def test_required_property_added_to_an_open_model_is_incompatible() -> None:
    """Confluent REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL (refused)."""
    old, new = obj({"id": STRING}), obj({"id": STRING, "email": STRING}, required=["email"])
    assert kinds(BACKWARD, old, new) == ["REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"]


def test_property_with_an_empty_schema_may_be_added_to_an_open_model() -> None:
    """Confluent PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL (accepted)."""
    assert found(obj({"id": STRING}), obj({"id": STRING, "x": {}})) == {
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
    }
    assert kinds(BACKWARD, obj({"id": STRING}), obj({"id": STRING, "x": {}})) == []


def test_closed_model_accepts_added_optional_property_and_refuses_removed_one() -> None:
    """Confluent OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL (accepted) and
    PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL (refused)."""
    one = obj({"id": STRING}, additionalProperties=False)
    two = obj({"id": STRING, "email": STRING}, additionalProperties=False)
    assert found(one, two) == {"OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"}
    assert kinds(BACKWARD, one, two) == []
    assert kinds(BACKWARD, two, one) == ["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"]
    required = obj({"id": STRING, "email": STRING}, additionalProperties=False, required=["email"])
    assert kinds(BACKWARD, one, required) == ["REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"]


def test_partially_open_model_covers_properties_its_schema_accepts() -> None:
    """Confluent PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (accepted) and
    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (refused, with the TYPE_CHANGED behind it)."""
    old = obj({"id": STRING}, additionalProperties=STRING)
    assert kinds(BACKWARD, old, obj({"id": STRING, "x": STRING}, additionalProperties=STRING)) == []
    refused = kinds(BACKWARD, old, obj({"id": STRING, "n": {"type": "integer"}}, additionalProperties=STRING))
    assert refused == ["TYPE_CHANGED", "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"]


def test_pattern_properties_make_a_model_partially_open() -> None:
    """Confluent PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (accepted)."""
    old = obj({"x1": STRING}, additionalProperties=False)
    new = {"type": "object", "patternProperties": {"^x": {}}, "additionalProperties": False}
    assert "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" in found(old, new)
    assert kinds(BACKWARD, old, new) == []


def test_required_attribute_changes() -> None:
    """Confluent REQUIRED_ATTRIBUTE_ADDED (refused), REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED and
    REQUIRED_ATTRIBUTE_REMOVED (accepted)."""
    props = {"id": STRING, "email": STRING}
    old, new = obj(props, required=["id"]), obj(props, required=["id", "email"])
    result = check_compatibility(BACKWARD, json_schema(new), [json_schema(old)])
    assert [(i.path, i.kind) for i in result.incompatibilities] == [
        ("/required/email", "REQUIRED_ATTRIBUTE_ADDED")
    ]
    assert kinds(FORWARD, old, new) == []
    with_default = obj({"id": STRING, "email": {"type": "string", "default": ""}}, required=["id", "email"])
    assert kinds(BACKWARD, old, with_default) == []


def test_closing_additional_properties_is_incompatible() -> None:
    """Confluent ADDITIONAL_PROPERTIES_REMOVED (refused) and ADDITIONAL_PROPERTIES_ADDED (accepted)."""
    open_model = obj({"id": STRING})
    closed = obj({"id": STRING}, additionalProperties=False)
    assert problems(closed, open_model) == [("/additionalProperties", "ADDITIONAL_PROPERTIES_REMOVED")]
    assert problems(open_model, closed) == []


def test_additional_properties_schema_added_narrows() -> None:
    """Confluent ADDITIONAL_PROPERTIES_NARROWED (refused under STRICT) and _EXTENDED (accepted)."""
    open_model, typed = {"type": "object"}, {"type": "object", "additionalProperties": STRING}
    assert kinds(BACKWARD, open_model, typed) == ["ADDITIONAL_PROPERTIES_NARROWED"]
    assert kinds(BACKWARD, typed, open_model) == []


def test_type_changes() -> None:
    """Confluent TYPE_CHANGED (refused), TYPE_NARROWED integer<-number (refused), TYPE_EXTENDED (accepted)."""
    assert problems({"type": "number"}, STRING) == [("/", "TYPE_CHANGED")]
    assert problems({"type": "integer"}, {"type": "number"}) == [("/", "TYPE_NARROWED")]
    assert problems({"type": "number"}, {"type": "integer"}) == []


def test_widening_to_a_type_union_is_a_sum_type_extension() -> None:
    """Confluent SUM_TYPE_EXTENDED (accepted); the reverse has no subschema to match: TYPE_CHANGED."""
    assert problems({"type": ["string", "null"]}, STRING) == []
    assert problems(STRING, {"type": ["string", "null"]}) == [("/", "TYPE_CHANGED")]


def test_nested_property_change_reports_its_path() -> None:
    """Confluent TYPE_NARROWED at the property's path."""
    reader, writer = obj({"age": {"type": "integer"}}), obj({"age": {"type": "number"}})
    assert problems(reader, writer) == [("/properties/age", "TYPE_NARROWED")]


def test_enum_changes() -> None:
    """Confluent ENUM_ARRAY_NARROWED and ENUM_ARRAY_CHANGED (refused), ENUM_ARRAY_EXTENDED (accepted); a
    changed const is ENUM_ARRAY_CHANGED."""
    assert problems({"enum": ["A"]}, {"enum": ["A", "B"]}) == [("/enum", "ENUM_ARRAY_NARROWED")]
    assert problems({"enum": ["A", "B"]}, {"enum": ["A"]}) == []
    assert problems({"enum": ["A", "C"]}, {"enum": ["A", "B"]}) == [("/enum", "ENUM_ARRAY_CHANGED")]
    assert problems({"const": "b"}, {"const": "a"}) == [("/const", "ENUM_ARRAY_CHANGED")]


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ({"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 5}, "MINIMUM_INCREASED"),
        ({"type": "integer", "maximum": 10}, {"type": "integer", "maximum": 5}, "MAXIMUM_DECREASED"),
        ({"type": "integer"}, {"type": "integer", "exclusiveMinimum": 1}, "EXCLUSIVE_MINIMUM_ADDED"),
        ({"type": "string"}, {"type": "string", "maxLength": 5}, "MAX_LENGTH_ADDED"),
        ({"type": "string", "minLength": 1}, {"type": "string", "minLength": 2}, "MIN_LENGTH_INCREASED"),
        ({"type": "array", "minItems": 1}, {"type": "array", "minItems": 2}, "MIN_ITEMS_INCREASED"),
        ({"type": "array"}, {"type": "array", "uniqueItems": True}, "UNIQUE_ITEMS_ADDED"),
        ({"type": "number", "multipleOf": 3}, {"type": "number", "multipleOf": 6}, "MULTIPLE_OF_EXPANDED"),
        ({"type": "number", "multipleOf": 2}, {"type": "number", "multipleOf": 3}, "MULTIPLE_OF_CHANGED"),
        ({"type": "object"}, {"type": "object", "maxProperties": 3}, "MAX_PROPERTIES_ADDED"),
        ({"type": "string"}, {"type": "string", "pattern": "^a"}, "PATTERN_ADDED"),
        ({"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^b"}, "PATTERN_CHANGED"),
    ],
)
def test_tightened_constraints_are_incompatible_and_loosened_ones_are_not(
    old: dict[str, Any], new: dict[str, Any], kind: str
) -> None:
    """Confluent's *_ADDED/INCREASED/DECREASED/EXPANDED/CHANGED for each constraint (refused); the reverse
    change (*_REMOVED/DECREASED/INCREASED/REDUCED) is accepted unless it is a _CHANGED."""
    assert kinds(BACKWARD, old, new) == [kind]
    if not kind.endswith("_CHANGED"):
        assert kinds(BACKWARD, new, old) == []


@pytest.mark.parametrize("criterion", ["anyOf", "oneOf"])
def test_any_of_or_one_of_to_all_of_is_incompatible(criterion: str) -> None:
    """Confluent COMBINED_TYPE_CHANGED (refused)."""
    old = {criterion: [STRING, {"type": "integer"}]}
    new = {"allOf": [STRING, {"type": "integer"}]}
    assert kinds(BACKWARD, old, new) == ["COMBINED_TYPE_CHANGED"]


def test_non_combined_to_all_of_is_incompatible() -> None:
    """Confluent: only anyOf/oneOf may wrap a plain schema (SUM_TYPE_EXTENDED); allOf is TYPE_CHANGED."""
    new = {"allOf": [STRING, {"maxLength": 5}]}
    assert kinds(BACKWARD, STRING, new) == ["TYPE_CHANGED"]
    assert kinds(BACKWARD, STRING, {"anyOf": [STRING, {"type": "integer"}]}) == []


def test_all_of_to_a_plain_schema_is_a_product_type_narrowing() -> None:
    """Confluent PRODUCT_TYPE_NARROWED (accepted) when one allOf subschema matches the plain schema."""
    assert kinds(BACKWARD, {"allOf": [STRING, {"maxLength": 5}]}, STRING) == []


def test_sum_type_changes() -> None:
    """Confluent SUM_TYPE_EXTENDED (accepted), SUM_TYPE_NARROWED and COMBINED_TYPE_SUBSCHEMAS_CHANGED
    (refused), COMBINED_TYPE_EXTENDED for oneOf to anyOf (accepted)."""
    two = {"anyOf": [STRING, {"type": "null"}]}
    assert kinds(BACKWARD, {"anyOf": [STRING]}, two) == []
    assert "SUM_TYPE_NARROWED" in kinds(BACKWARD, two, {"anyOf": [STRING]})
    assert kinds(BACKWARD, two, {"anyOf": [{"type": "null"}, STRING]}) == []
    assert kinds(BACKWARD, two, {"anyOf": [STRING, {"type": "integer"}]}) == [
        "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
    ]
    assert kinds(BACKWARD, {"oneOf": [STRING, {"type": "null"}]}, two) == []


def test_not_is_compared_the_other_way_round() -> None:
    """Confluent NOT_TYPE_NARROWED (accepted) and NOT_TYPE_EXTENDED (refused)."""
    narrow, wide = {"not": {"type": "string", "maxLength": 3}}, {"not": STRING}
    assert kinds(BACKWARD, narrow, wide) == ["NOT_TYPE_EXTENDED"]
    assert kinds(BACKWARD, wide, narrow) == []


def test_array_items_are_compared() -> None:
    """Confluent compares ``items``: TYPE_CHANGED there, SCHEMA_ADDED when the reader adds items (refused)."""
    old = {"type": "array", "items": STRING}
    assert problems({"type": "array", "items": {"type": "integer"}}, old) == [("/items", "TYPE_CHANGED")]
    assert problems(old, {"type": "array"}) == [("/items", "SCHEMA_ADDED")]
    assert problems({"type": "array"}, old) == []


def test_refs_are_followed() -> None:
    """Confluent normalizeSchema resolves $ref before comparing: TYPE_NARROWED inside the target."""
    writer = {"$ref": "#/definitions/Base", "definitions": {"Base": obj({"n": {"type": "number"}})}}
    reader = {"$ref": "#/$defs/Base", "$defs": {"Base": obj({"n": {"type": "integer"}})}}
    assert problems(reader, writer) == [("/properties/n", "TYPE_NARROWED")]


def test_recursive_refs_terminate() -> None:
    tree = obj({"child": {"$ref": "#"}, "v": STRING})
    assert problems(tree, tree) == []
    deeper = obj({"child": {"$ref": "#"}, "v": {"type": "integer"}})
    assert ("/properties/v", "TYPE_CHANGED") in problems(deeper, tree)


def test_descriptions_titles_and_defaults_are_compatible() -> None:
    """Confluent DESCRIPTION_CHANGED, TITLE_CHANGED, DEFAULT_CHANGED (accepted)."""
    old = {"type": "string", "title": "a", "description": "x"}
    new = {"type": "string", "title": "b", "description": "y", "default": "z"}
    assert found(old, new) == {"TITLE_CHANGED", "DESCRIPTION_CHANGED", "DEFAULT_CHANGED"}
    assert kinds(FULL, old, new) == []


def test_anything_reads_as_true_and_false_reads_nothing() -> None:
    """Confluent: an update that is empty or true accepts any original; a false original is read by all."""
    assert problems(True, STRING) == []
    assert problems({}, obj({"a": STRING})) == []
    assert problems(STRING, False) == []
    assert problems(STRING, {}) == [("/", "TYPE_CHANGED")]


def test_full_transitive_json_chain() -> None:
    """Confluent ADDITIONAL_PROPERTIES_REMOVED against every earlier version under BACKWARD_TRANSITIVE."""
    v1 = json_schema(obj({"a": STRING}, required=["a"]))
    v2 = json_schema(obj({"a": STRING}))
    v3 = json_schema(obj({"a": STRING}, additionalProperties=False))
    assert check_compatibility(FORWARD, v3, [v1, v2]).compatible
    result = check_compatibility(CompatibilityLevel.BACKWARD_TRANSITIVE, v3, [v1, v2])
    assert [i.kind for i in result.incompatibilities] == ["ADDITIONAL_PROPERTIES_REMOVED"]
