"""JSON Schema compatibility: the reader must accept every document the writer accepts."""

from __future__ import annotations

from typing import Any

import pytest

from registry.compatibility import CompatibilityLevel, can_read, check_compatibility
from tests.unit.registry.helpers import json_schema

BACKWARD = CompatibilityLevel.BACKWARD
FORWARD = CompatibilityLevel.FORWARD


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **extra}


def problems(reader: Any, writer: Any) -> list[tuple[str, str]]:
    return [(i.path, i.kind) for i in can_read(json_schema(reader), json_schema(writer))]


def test_required_property_added_is_backward_incompatible() -> None:
    old = obj({"id": {"type": "string"}, "email": {"type": "string"}}, required=["id"])
    new = obj({"id": {"type": "string"}, "email": {"type": "string"}}, required=["id", "email"])
    result = check_compatibility(BACKWARD, json_schema(new), [json_schema(old)])
    assert [(i.path, i.kind) for i in result.incompatibilities] == [("/required/email", "required-added")]
    assert check_compatibility(FORWARD, json_schema(new), [json_schema(old)]).compatible


def test_type_narrowed_is_incompatible_and_widened_is_not() -> None:
    assert problems({"type": "string"}, {"type": ["string", "null"]}) == [("/type", "type-narrowed")]
    assert problems({"type": ["string", "null"]}, {"type": "string"}) == []
    assert problems({"type": "number"}, {"type": "integer"}) == []
    assert problems({"type": "integer"}, {"type": "number"}) == [("/type", "type-narrowed")]


def test_nested_property_type_narrowed_reports_its_path() -> None:
    reader = obj({"age": {"type": "integer"}})
    writer = obj({"age": {"type": "number"}})
    assert problems(reader, writer) == [("/properties/age/type", "type-narrowed")]


def test_closing_additional_properties_is_incompatible() -> None:
    open_model = obj({"id": {"type": "string"}})
    closed = obj({"id": {"type": "string"}}, additionalProperties=False)
    assert problems(closed, open_model) == [("/additionalProperties", "additional-properties-closed")]
    assert problems(open_model, closed) == []


def test_property_removed_from_a_closed_model_is_incompatible() -> None:
    writer = obj({"id": {"type": "string"}, "email": {"type": "string"}}, additionalProperties=False)
    reader = obj({"id": {"type": "string"}}, additionalProperties=False)
    assert problems(reader, writer) == [("/properties/email", "property-removed")]
    assert problems(obj({"id": {"type": "string"}}), obj({"id": {"type": "string"}, "x": {}})) == []


def test_enum_narrowed_is_incompatible() -> None:
    assert problems({"enum": ["A"]}, {"enum": ["A", "B"]}) == [("/enum", "enum-narrowed")]
    assert problems({"enum": ["A", "B"]}, {"enum": ["A"]}) == []
    assert problems({"enum": ["A"]}, {"type": "string"}) == [("/enum", "enum-narrowed")]


@pytest.mark.parametrize(
    ("reader", "writer"),
    [
        ({"type": "integer", "minimum": 5}, {"type": "integer", "minimum": 0}),
        ({"type": "integer", "maximum": 5}, {"type": "integer", "maximum": 10}),
        ({"type": "string", "maxLength": 5}, {"type": "string"}),
        ({"type": "array", "minItems": 2}, {"type": "array", "minItems": 1}),
        ({"type": "number", "multipleOf": 6}, {"type": "number", "multipleOf": 3}),
    ],
)
def test_tightened_bounds_are_incompatible(reader: dict[str, Any], writer: dict[str, Any]) -> None:
    [(_, kind)] = problems(reader, writer)
    assert kind == "bound-tightened"
    assert problems(writer, reader) == []


def test_pattern_added_is_incompatible() -> None:
    found = problems({"type": "string", "pattern": "^a"}, {"type": "string"})
    assert found == [("/pattern", "pattern-changed")]


def test_array_items_are_compared() -> None:
    reader = {"type": "array", "items": {"type": "string"}}
    writer = {"type": "array", "items": {"type": ["string", "integer"]}}
    assert problems(reader, writer) == [("/items/type", "type-narrowed")]


def test_refs_and_all_of_are_followed() -> None:
    writer = {
        "allOf": [{"$ref": "#/definitions/Base"}],
        "definitions": {"Base": obj({"n": {"type": "number"}})},
    }
    reader = {"$ref": "#/$defs/Base", "$defs": {"Base": obj({"n": {"type": "integer"}})}}
    assert problems(reader, writer) == [("/properties/n/type", "type-narrowed")]


def test_any_of_branches_are_matched() -> None:
    writer = {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert problems({"type": ["string", "null"]}, writer) == []
    assert problems({"anyOf": [{"type": "null"}, {"type": "string"}]}, writer) == []
    assert problems({"anyOf": [{"type": "string"}]}, writer) == [("/anyOf", "union-narrowed")]


def test_recursive_refs_terminate() -> None:
    tree = obj({"child": {"$ref": "#"}, "v": {"type": "string"}})
    assert problems(tree, tree) == []


def test_const_is_an_enum_of_one() -> None:
    assert problems({"const": "a"}, {"enum": ["a", "b"]}) == [("/enum", "enum-narrowed")]
    assert problems({"enum": ["a", "b"]}, {"const": "a"}) == []


def test_additional_properties_schema_constrains_writer_properties() -> None:
    reader = {"type": "object", "additionalProperties": {"type": "string"}}
    writer = obj({"n": {"type": "integer"}})
    assert problems(reader, writer) == [
        ("/properties/n/type", "type-narrowed"),
        ("/additionalProperties/type", "type-narrowed"),
    ]


def test_pattern_properties_keep_a_property_allowed_in_a_closed_model() -> None:
    reader = {"type": "object", "patternProperties": {"^x": {}}, "additionalProperties": False}
    writer = obj({"x1": {"type": "string"}}, additionalProperties=False)
    assert problems(reader, writer) == []


def test_full_transitive_json_chain() -> None:
    v1 = json_schema(obj({"a": {"type": "string"}}, required=["a"]))
    v2 = json_schema(obj({"a": {"type": "string"}}))
    v3 = json_schema(obj({"a": {"type": "string"}}, additionalProperties=False))
    assert check_compatibility(FORWARD, v3, [v1, v2]).compatible
    result = check_compatibility(CompatibilityLevel.BACKWARD_TRANSITIVE, v3, [v1, v2])
    assert [i.kind for i in result.incompatibilities] == ["additional-properties-closed"]
