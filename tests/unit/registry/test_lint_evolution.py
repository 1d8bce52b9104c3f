"""Lint rules that compare a schema with the subject's previous version: buf's WIRE/WIRE_JSON strictness.

Confluent accepts these changes (FIELD_REMOVED, ENUM_CONST_REMOVED, FIELD_NAME_CHANGED, ENUM_CONST_CHANGED are
in its COMPATIBLE_CHANGES); the lint rules let a subject refuse them by setting the rule to ``error``.
"""

from __future__ import annotations

from registry.lint import LintConfig, Severity, lint_schema, rule_names
from registry.schemas import ParsedSchema
from tests.unit.registry.helpers import proto_message

ENUM = "enum Status { STATUS_UNSPECIFIED = 0; STATUS_ACTIVE = 1; %s }\n Status status = 1;"


def only(rule: str, severity: Severity = Severity.WARN) -> LintConfig:
    return LintConfig({name: Severity.OFF for name in rule_names()}).merged({rule: severity.value})


def found(
    previous: ParsedSchema, schema: ParsedSchema, rule: str, severity: Severity = Severity.WARN
) -> list[tuple[Severity, str, str]]:
    return [(f.severity, f.path, f.message) for f in lint_schema(schema, only(rule, severity), previous)]


def test_evolution_rules_are_known_and_warn_by_default() -> None:
    default = LintConfig.default()
    for rule in (
        "proto.field-removed-reserved",
        "proto.enum-value-removed-reserved",
        "proto.json-name-stable",
    ):
        assert rule in rule_names()
        assert default.severity(rule) is Severity.WARN


def test_removed_field_must_reserve_its_number_and_name() -> None:
    old = proto_message("string id = 1; string email = 2;")
    removed = proto_message("string id = 1;")
    [(severity, path, message)] = found(old, removed, "proto.field-removed-reserved")
    assert (severity, path) == (Severity.WARN, "/messages/User/fields/email")
    assert message == "field email (2) was removed without reserving its number and name"
    number_only = proto_message("string id = 1; reserved 2;")
    assert [m for _, _, m in found(old, number_only, "proto.field-removed-reserved")] == [
        "field email (2) was removed without reserving its name"
    ]
    reserved = proto_message('string id = 1; reserved 2 to 5; reserved "email";')
    assert found(old, reserved, "proto.field-removed-reserved") == []


def test_a_subject_can_make_the_reservation_rule_an_error() -> None:
    old = proto_message("string id = 1; string email = 2;")
    findings = found(old, proto_message("string id = 1;"), "proto.field-removed-reserved", Severity.ERROR)
    assert [severity for severity, _, _ in findings] == [Severity.ERROR]


def test_removed_enum_value_must_reserve_its_number_and_name() -> None:
    old = proto_message(ENUM % "STATUS_BLOCKED = 2;")
    [(_, path, message)] = found(old, proto_message(ENUM % ""), "proto.enum-value-removed-reserved")
    assert path == "/enums/User.Status/values/STATUS_BLOCKED"
    assert message.startswith("enum value STATUS_BLOCKED (2) of Status was removed")
    assert message.endswith("without reserving its number and name")
    reserved = proto_message(ENUM % 'reserved 2; reserved "STATUS_BLOCKED";')
    assert found(old, reserved, "proto.enum-value-removed-reserved") == []


def test_renamed_field_or_enum_value_changes_the_json_encoding() -> None:
    old = proto_message("string id = 1; string email = 2;")
    [(_, path, message)] = found(
        old, proto_message("string id = 1; string mail = 2;"), "proto.json-name-stable"
    )
    assert path == "/messages/User/fields/mail"
    assert message == (
        "field number 2 was email and is now mail, which changes its JSON name from email to mail"
    )
    enum_old = proto_message(ENUM % "STATUS_BLOCKED = 2;")
    enum_new = proto_message(ENUM % "STATUS_SUSPENDED = 2;")
    assert [p for _, p, _ in found(enum_old, enum_new, "proto.json-name-stable")] == [
        "/enums/User.Status/values/STATUS_SUSPENDED"
    ]


def test_evolution_rules_do_not_run_without_a_previous_version() -> None:
    schema = proto_message("string id = 1;")
    assert lint_schema(schema, only("proto.field-removed-reserved")) == []
