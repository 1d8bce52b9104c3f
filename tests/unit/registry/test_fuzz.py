"""Fuzzing: bad input of any type raises InvalidSchemaError only; whatever parses can be checked, diffed
and linted without crashing."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.compatibility import CompatibilityLevel, check_compatibility
from registry.diff import diff_schemas
from registry.errors import InvalidSchemaError
from registry.lint import LintConfig, lint_schema
from registry.schemas import ParsedSchema, SchemaType, parse_schema
from registry.semver import assess_change

AVRO_KEYS = [
    "type",
    "name",
    "namespace",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "default",
    "aliases",
    "doc",
]
AVRO_WORDS = [
    "record",
    "enum",
    "fixed",
    "array",
    "map",
    "null",
    "int",
    "long",
    "string",
    "bytes",
    "A",
    "b.C",
    "x",
]
JSON_KEYS = [
    "type",
    "properties",
    "required",
    "items",
    "enum",
    "minimum",
    "maxLength",
    "$ref",
    "anyOf",
    "allOf",
]
JSON_WORDS = ["object", "string", "integer", "number", "array", "null", "#/definitions/x", "#", "a"]
PROTO_TOKENS = [
    *[
        "message",
        "enum",
        "oneof",
        "reserved",
        "repeated",
        "optional",
        "int32",
        "string",
        "bytes",
        "M",
        "N",
        "x",
        "y",
        "=",
        ";",
        "{",
        "}",
        "1",
        "2",
        "0",
        "-1",
        "[",
        "]",
    ],
    'syntax = "proto3";',
    'syntax = "proto2";',
    'import "confluent/meta.proto";',
    "(confluent.field_meta).tags",
    '"PII"',
    "package p;",
    "map<string, int32>",
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW_FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def json_like(keys: list[str], words: list[str]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.sampled_from(words), st.integers(-3, 40), st.booleans(), st.none(), st.text(max_size=4)
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.sampled_from(keys), children, max_size=5),
        ),
        max_leaves=25,
    )


def parse_or_invalid(schema_type: SchemaType, text: str) -> ParsedSchema | None:
    try:
        return parse_schema(schema_type, text)
    except InvalidSchemaError:
        return None


def exercise(parsed: ParsedSchema) -> None:
    parsed.canonical()
    parsed.canonical_without_docs()
    parsed.tagged_fields()
    parsed.formatted("serialized")
    lint_schema(parsed, LintConfig.default())


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text_never_escapes_invalid_schema_for_json_types(text: str) -> None:
    for schema_type in (SchemaType.AVRO, SchemaType.JSON):
        parsed = parse_or_invalid(schema_type, text)
        if parsed is not None:
            exercise(parsed)


@FUZZ
@given(json_like(AVRO_KEYS, AVRO_WORDS), json_like(AVRO_KEYS, AVRO_WORDS))
def test_avro_shaped_documents_parse_or_raise_invalid_and_parsed_ones_compare(
    first: Any, second: Any
) -> None:
    a = parse_or_invalid(SchemaType.AVRO, json.dumps(first))
    b = parse_or_invalid(SchemaType.AVRO, json.dumps(second))
    for parsed in (a, b):
        if parsed is not None:
            exercise(parsed)
    if a is not None and b is not None:
        check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, a, [b])
        diff_schemas(a, b)
        assess_change(a, b, CompatibilityLevel.BACKWARD)


@FUZZ
@given(json_like(JSON_KEYS, JSON_WORDS), json_like(JSON_KEYS, JSON_WORDS))
def test_json_schema_shaped_documents_parse_or_raise_invalid_and_compare(first: Any, second: Any) -> None:
    a = parse_or_invalid(SchemaType.JSON, json.dumps(first))
    b = parse_or_invalid(SchemaType.JSON, json.dumps(second))
    for parsed in (a, b):
        if parsed is not None:
            exercise(parsed)
    if a is not None and b is not None:
        check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, a, [b])
        diff_schemas(a, b)


@SLOW_FUZZ
@given(
    st.lists(st.sampled_from(PROTO_TOKENS), max_size=30), st.lists(st.sampled_from(PROTO_TOKENS), max_size=30)
)
def test_protobuf_token_soup_parses_or_raises_invalid(first: list[str], second: list[str]) -> None:
    a = parse_or_invalid(SchemaType.PROTOBUF, " ".join(first))
    b = parse_or_invalid(SchemaType.PROTOBUF, " ".join(second))
    for parsed in (a, b):
        if parsed is not None:
            exercise(parsed)
    if a is not None and b is not None:
        check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, a, [b])
        diff_schemas(a, b)


@SLOW_FUZZ
@given(st.binary(max_size=80))
def test_random_serialized_descriptors_parse_or_raise_invalid(data: bytes) -> None:
    parsed = parse_or_invalid(SchemaType.PROTOBUF, base64.b64encode(data).decode())
    if parsed is not None:
        exercise(parsed)


def test_deeply_nested_input_is_invalid_not_a_crash() -> None:
    deep = "[" * 5000 + "]" * 5000
    for schema_type in SchemaType:
        assert parse_or_invalid(schema_type, deep) is None


PRIMITIVE_DEFAULTS = {"int": 0, "long": 0, "float": 0.0, "double": 0.0, "string": "", "boolean": False}


@st.composite
def avro_records(draw: st.DrawFn) -> dict[str, Any]:
    fields = []
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), unique=True, max_size=5))
    for index, name in enumerate(names):
        kind = draw(st.sampled_from([*PRIMITIVE_DEFAULTS, "nullable", "enum", "array", "nested"]))
        field: dict[str, Any] = {"name": name}
        if kind in PRIMITIVE_DEFAULTS:
            field["type"] = kind
            if draw(st.booleans()):
                field["default"] = PRIMITIVE_DEFAULTS[kind]
        elif kind == "nullable":
            field["type"] = ["null", draw(st.sampled_from(sorted(PRIMITIVE_DEFAULTS)))]
            field["default"] = None
        elif kind == "enum":
            symbols = draw(st.lists(st.sampled_from(["X", "Y", "Z"]), unique=True, min_size=1))
            field["type"] = {"type": "enum", "name": f"E{index}", "symbols": symbols}
        elif kind == "array":
            field["type"] = {"type": "array", "items": draw(st.sampled_from(sorted(PRIMITIVE_DEFAULTS)))}
        else:
            inner = draw(st.sampled_from(sorted(PRIMITIVE_DEFAULTS)))
            field["type"] = {"type": "record", "name": f"R{index}", "fields": [{"name": "v", "type": inner}]}
        if draw(st.booleans()):
            field["confluent:tags"] = ["PII"]
        fields.append(field)
    return {"type": "record", "name": "Root", "namespace": "fuzz", "fields": fields}


@FUZZ
@given(avro_records(), avro_records())
def test_generated_avro_records_are_self_compatible_and_checks_never_crash(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    a = parse_schema(SchemaType.AVRO, json.dumps(first))
    b = parse_schema(SchemaType.AVRO, json.dumps(second))
    assert check_compatibility(CompatibilityLevel.FULL, a, [a]).compatible
    assert diff_schemas(a, a) == []
    result = check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, a, [b, a])
    assert all(item.path.startswith("/") and item.message for item in result.incompatibilities)
    assessment = assess_change(b, a, CompatibilityLevel.BACKWARD)
    assert (assessment.change.value == "MAJOR") == bool(assessment.incompatibilities)
    exercise(a)


PROTO_TYPES = [
    "int32",
    "int64",
    "uint32",
    "sint64",
    "fixed32",
    "bool",
    "string",
    "bytes",
    "double",
    "Inner",
    "Kind",
]


@st.composite
def proto_files(draw: st.DrawFn) -> str:
    numbers = draw(st.lists(st.integers(1, 40), unique=True, min_size=1, max_size=6))
    lines = []
    for index, number in enumerate(numbers):
        kind = draw(st.sampled_from(PROTO_TYPES))
        label = draw(st.sampled_from(["", "repeated ", "optional "]))
        lines.append(f"{label}{kind} f{index} = {number};")
    if draw(st.booleans()):
        lines.append("oneof choice { string c1 = 50; int32 c2 = 51; }")
    if draw(st.booleans()):
        lines.append("map<string, Inner> m = 60;")
    body = " ".join(lines)
    return (
        'syntax = "proto3"; package fuzz; enum Kind { KIND_UNSPECIFIED = 0; KIND_A = 1; }'
        f"message Inner {{ string v = 1; }} message Root {{ {body} reserved 99; }}"
    )


@SLOW_FUZZ
@given(proto_files(), proto_files())
def test_generated_protobuf_is_self_compatible_and_renders_back_to_itself(first: str, second: str) -> None:
    a = parse_schema(SchemaType.PROTOBUF, first)
    b = parse_schema(SchemaType.PROTOBUF, second)
    assert check_compatibility(CompatibilityLevel.FULL, a, [a]).compatible
    assert diff_schemas(a, a) == []
    shown = parse_schema(SchemaType.PROTOBUF, a.formatted("serialized")).formatted(None)
    assert parse_schema(SchemaType.PROTOBUF, shown).canonical() == a.canonical()
    result = check_compatibility(CompatibilityLevel.FULL_TRANSITIVE, a, [b])
    assert all(item.path.startswith("/") and item.message for item in result.incompatibilities)
    assess_change(b, a, CompatibilityLevel.BACKWARD)
