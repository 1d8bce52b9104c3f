"""Lint rules per schema type, the classification-tag rule, and lint configuration."""

from __future__ import annotations

import pytest

from registry.errors import LintConfigError
from registry.lint import LintConfig, LintFinding, Severity, lint_schema, rule_descriptions, rule_names
from registry.schemas import ParsedSchema
from tests.unit.registry.helpers import avro, field, json_schema, proto, record

ALL_WARN = LintConfig.default()


def only(rule: str, severity: Severity = Severity.WARN) -> LintConfig:
    return LintConfig({name: Severity.OFF for name in rule_names()}).merged({rule: severity.value})


def found(schema: ParsedSchema, rule: str) -> list[tuple[str, str]]:
    return [(f.path, f.message) for f in lint_schema(schema, only(rule))]


def test_rule_names_are_stable_and_described() -> None:
    expected = {
        "avro.namespace-required",
        "avro.record-name-pascal-case",
        "avro.field-name-snake-case",
        "avro.doc-required",
        "avro.enum-symbols-upper-snake",
        "fields.classification-tag-required",
        "proto.package-required",
        "proto.field-lower-snake-case",
        "proto.enum-zero-unspecified",
        "proto.message-pascal-case",
        "json.title-required",
    }
    assert expected <= set(rule_names())
    descriptions = rule_descriptions()
    assert all(descriptions[name] and "\n" not in descriptions[name] for name in rule_names())


def test_avro_namespace_required() -> None:
    bare = avro({"type": "record", "name": "User", "fields": []})
    assert found(bare, "avro.namespace-required") == [("/", "record User has no namespace")]
    assert found(avro(record()), "avro.namespace-required") == []


def test_avro_naming_rules() -> None:
    schema = avro(
        record(
            field("userId", "string"),
            field("kind", {"type": "enum", "name": "kind_t", "symbols": ["Good", "BAD_ONE"]}),
            name="user_record",
        )
    )
    assert [p for p, _ in found(schema, "avro.record-name-pascal-case")] == [
        "/name",
        "/fields/kind/type/name",
    ]
    assert [p for p, _ in found(schema, "avro.field-name-snake-case")] == ["/fields/userId"]
    assert [p for p, _ in found(schema, "avro.enum-symbols-upper-snake")] == [
        "/fields/kind/type/symbols/Good"
    ]


def test_avro_doc_required_on_records_and_fields() -> None:
    schema = avro(record(field("id", "string", doc="id"), field("name", "string"), doc="A user"))
    assert found(schema, "avro.doc-required") == [("/fields/name", "field name has no doc")]


def test_classification_tags_are_required_on_leaf_fields_and_inherited() -> None:
    address = {"type": "record", "name": "Address", "fields": [field("country", "string")]}
    schema = avro(
        record(
            field("id", "string", **{"confluent:tags": ["PUBLIC"]}),
            field("email", "string"),
            field("home", address, **{"confluent:tags": ["PII"]}),
            field("work", "Address"),
        )
    )
    assert [p for p, _ in found(schema, "fields.classification-tag-required")] == [
        "/fields/email",
        "/fields/work/type/fields/country",
    ]


def test_classification_tags_for_protobuf_and_json() -> None:
    message = proto(
        'syntax = "proto3"; package p; import "confluent/meta.proto";'
        'message M { string a = 1 [(confluent.field_meta).tags = "PII"]; string b = 2; }'
    )
    assert [p for p, _ in found(message, "fields.classification-tag-required")] == ["/messages/M/fields/b"]
    document = json_schema(
        {"type": "object", "properties": {"a": {"type": "string", "confluent:tags": ["PII"]}, "b": {}}}
    )
    assert [p for p, _ in found(document, "fields.classification-tag-required")] == ["/properties/b"]


def test_protobuf_rules_in_bufs_spirit() -> None:
    schema = proto(
        'syntax = "proto3";'
        "message user_msg { string userName = 1; Status status = 2; }"
        "enum Status { ACTIVE = 0; Blocked = 1; }"
    )
    assert found(schema, "proto.package-required") == [("/package", "the file declares no package")]
    assert [p for p, _ in found(schema, "proto.message-pascal-case")] == ["/messages/user_msg"]
    assert [p for p, _ in found(schema, "proto.field-lower-snake-case")] == [
        "/messages/user_msg/fields/userName"
    ]
    [(path, message)] = found(schema, "proto.enum-zero-unspecified")
    assert path == "/enums/Status"
    assert "STATUS_UNSPECIFIED" in message
    assert [p for p, _ in found(schema, "proto.enum-value-upper-snake")] == ["/enums/Status/values/Blocked"]


def test_clean_protobuf_has_no_findings() -> None:
    schema = proto(
        'syntax = "proto3"; package com.example; import "confluent/meta.proto";'
        'message User { string user_id = 1 [(confluent.field_meta).tags = "PUBLIC"]; }'
        "enum Status { STATUS_UNSPECIFIED = 0; STATUS_ACTIVE = 1; }"
    )
    assert lint_schema(schema, ALL_WARN) == []


def test_json_rules() -> None:
    schema = json_schema({"type": "object", "properties": {"a": {"type": "string"}}})
    assert found(schema, "json.title-required") == [("/title", "the schema has no title")]
    assert [p for p, _ in found(schema, "json.description-required")] == ["/properties/a"]
    assert found(schema, "json.additional-properties-explicit") != []
    assert all(f.rule != "json.additional-properties-explicit" for f in lint_schema(schema, ALL_WARN))


def test_rules_only_run_for_their_schema_type() -> None:
    schema = json_schema({"type": "string", "title": "T"})
    assert lint_schema(schema, LintConfig.from_mapping({"avro.doc-required": "error"})) == []


def test_error_severity_and_ordering() -> None:
    schema = avro({"type": "record", "name": "User", "fields": [field("Id", "string")]})
    config = LintConfig.default().merged({"avro.namespace-required": "ERROR"})
    findings = lint_schema(schema, config)
    assert findings[0] == LintFinding(
        "avro.namespace-required", Severity.ERROR, "/", "record User has no namespace"
    )
    assert {f.severity for f in findings[1:]} == {Severity.WARN}


def test_unknown_rule_or_severity_is_a_config_error_naming_it() -> None:
    with pytest.raises(LintConfigError, match=r"avro\.nope"):
        LintConfig.from_mapping({"avro.nope": "warn"})
    with pytest.raises(LintConfigError, match="'loud'"):
        LintConfig.from_mapping({"avro.doc-required": "loud"})


def test_merged_overrides_and_as_dict() -> None:
    base = LintConfig.from_mapping({"avro.doc-required": "error", "json.title-required": "off"})
    merged = base.merged(LintConfig.from_mapping({"avro.doc-required": "warn"}))
    assert merged.as_dict() == {"avro.doc-required": "warn", "json.title-required": "off"}
    assert merged.severity("proto.package-required") is Severity.WARN
