"""The semver gate: classifying changes and refusing understated or malformed versions."""

from __future__ import annotations

import pytest

from registry.compatibility import CompatibilityLevel
from registry.errors import SemverError
from registry.semver import ChangeAssessment, ChangeClass, SemVer, assess_change, resolve_version
from tests.unit.registry.helpers import avro_record, field, proto_message

PATCH, MINOR, MAJOR = ChangeClass.PATCH, ChangeClass.MINOR, ChangeClass.MAJOR
V1 = avro_record(field("id", "string"))


def test_parse_and_print_round_trip() -> None:
    assert str(SemVer.parse(" 1.20.3 ")) == "1.20.3"
    assert SemVer.parse("1.2.3") < SemVer.parse("1.10.0") < SemVer.parse("2.0.0")


@pytest.mark.parametrize("text", ["1.2", "1.2.3.4", "01.2.3", "v1.2.3", "1.2.3-beta", "", "a.b.c", "-1.0.0"])
def test_malformed_versions_are_refused_with_an_explanation(text: str) -> None:
    with pytest.raises(SemverError, match=r"MAJOR\.MINOR\.PATCH") as caught:
        SemVer.parse(text)
    assert caught.value.problems


@pytest.mark.parametrize(("change", "expected"), [(PATCH, "1.2.4"), (MINOR, "1.3.0"), (MAJOR, "2.0.0")])
def test_bump_resets_lower_parts(change: ChangeClass, expected: str) -> None:
    assert str(SemVer(1, 2, 3).bump(change)) == expected


def test_first_version_is_major() -> None:
    assessment = assess_change(None, V1, CompatibilityLevel.BACKWARD)
    assert assessment.change is MAJOR
    assert assessment.reasons == ("first version",)


def test_doc_and_tag_changes_are_patch_and_say_what_changed() -> None:
    tagged = avro_record(field("id", "string", doc="the id", **{"confluent:tags": ["PUBLIC"]}))
    assessment = assess_change(V1, tagged, CompatibilityLevel.BACKWARD)
    assert assessment.change is PATCH
    assert any("doc" in reason for reason in assessment.reasons)
    assert any("tags" in reason for reason in assessment.reasons)


def test_compatible_change_is_minor_and_incompatible_is_major() -> None:
    added_optional = avro_record(field("id", "string"), field("x", "int", default=0))
    added_required = avro_record(field("id", "string"), field("x", "int"))
    assert assess_change(V1, added_optional, CompatibilityLevel.BACKWARD).change is MINOR
    major = assess_change(V1, added_required, CompatibilityLevel.BACKWARD)
    assert major.change is MAJOR
    assert [i.path for i in major.incompatibilities] == ["/fields/x"]


def test_level_none_classes_by_backward_compatibility() -> None:
    added_required = avro_record(field("id", "string"), field("x", "int"))
    assert assess_change(V1, added_required, CompatibilityLevel.NONE).change is MAJOR


def test_forward_level_makes_a_removal_without_default_major() -> None:
    two = avro_record(field("id", "string"), field("x", "int"))
    assert assess_change(two, V1, CompatibilityLevel.BACKWARD).change is MINOR
    assert assess_change(two, V1, CompatibilityLevel.FORWARD).change is MAJOR


def test_protobuf_field_removed_without_reservation_is_minor() -> None:
    """Confluent FIELD_REMOVED is compatible; a changed scalar kind (FIELD_SCALAR_KIND_CHANGED) is MAJOR."""
    old = proto_message("string id = 1; string email = 2;")
    assert assess_change(old, proto_message("string id = 1;"), CompatibilityLevel.BACKWARD).change is MINOR
    assert assess_change(old, proto_message("int32 id = 1;"), CompatibilityLevel.BACKWARD).change is MAJOR


def _assessment(change: ChangeClass) -> ChangeAssessment:
    return ChangeAssessment(change, (f"/fields/email: a {change.value} reason",))


@pytest.mark.parametrize(
    ("previous", "declared", "change", "expected"),
    [
        (None, None, MAJOR, "1.0.0"),
        (None, "0.1.0", MAJOR, "0.1.0"),
        ("1.1.0", None, PATCH, "1.1.1"),
        ("1.1.0", None, MINOR, "1.2.0"),
        ("1.1.0", "1.1.1", PATCH, "1.1.1"),
        ("1.1.0", "1.2.0", PATCH, "1.2.0"),
        ("1.1.0", "1.2.0", MINOR, "1.2.0"),
        ("1.1.0", "3.0.0", MINOR, "3.0.0"),
        ("1.1.0", "2.0.0", MAJOR, "2.0.0"),
    ],
)
def test_gate_accepts(previous: str | None, declared: str | None, change: ChangeClass, expected: str) -> None:
    prev = SemVer.parse(previous) if previous else None
    decl = SemVer.parse(declared) if declared else None
    assert str(resolve_version(prev, decl, _assessment(change))) == expected


@pytest.mark.parametrize(
    ("previous", "declared", "change", "smallest"),
    [
        ("1.1.0", "1.1.1", MINOR, "1.2.0"),
        ("1.1.0", "1.2.0", MAJOR, "2.0.0"),
        ("1.1.0", "1.1.0", PATCH, "1.1.1"),
        ("1.1.0", "1.0.9", PATCH, "1.1.1"),
        ("1.1.0", None, MAJOR, "2.0.0"),
    ],
)
def test_gate_refuses_and_names_the_smallest_acceptable_version(
    previous: str, declared: str | None, change: ChangeClass, smallest: str
) -> None:
    decl = SemVer.parse(declared) if declared else None
    with pytest.raises(SemverError) as caught:
        resolve_version(SemVer.parse(previous), decl, _assessment(change))
    message = str(caught.value)
    assert smallest in message
    assert caught.value.problems == (f"/fields/email: a {change.value} reason",)


def test_understated_version_message_explains_class_and_path() -> None:
    added_required = avro_record(field("id", "string"), field("email", "string"))
    assessment = assess_change(V1, added_required, CompatibilityLevel.BACKWARD)
    with pytest.raises(SemverError) as caught:
        resolve_version(SemVer(1, 0, 0), SemVer(1, 1, 0), assessment)
    message = str(caught.value)
    assert "understates a MAJOR change" in message
    assert "/fields/email" in message
    assert "2.0.0" in message


def test_undeclared_major_change_mentions_the_topic_move() -> None:
    with pytest.raises(SemverError, match=r"declare version 3\.0\.0.*v3"):
        resolve_version(SemVer(2, 4, 1), None, _assessment(MAJOR))
