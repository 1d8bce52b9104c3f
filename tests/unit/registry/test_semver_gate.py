"""The semver gate's decisions as pure functions: transitive failure ⇒ MAJOR, the bump, the refusals."""

from __future__ import annotations

import pytest

from registry.compatibility import CompatibilityLevel, CompatibilityResult, Incompatibility
from registry.errors import MajorNotDeclaredError, VersionUnderstatedError
from registry.semver import (
    ChangeAssessment,
    ChangeClass,
    SemVer,
    classify,
    confluent_version,
    gate_version,
    needs_transitive_check,
)
from tests.unit.registry.helpers import avro_record, field

PATCH, MINOR, MAJOR = ChangeClass.PATCH, ChangeClass.MINOR, ChangeClass.MAJOR
V1 = avro_record(field("id", "string"))
BROKEN = CompatibilityResult(
    (Incompatibility("/fields/x", "reader has no default for x", "READER_FIELD_MISSING_DEFAULT_VALUE"),)
)


def _minor() -> ChangeAssessment:
    return ChangeAssessment(MINOR, ("compatible under BACKWARD_TRANSITIVE",))


def test_every_version_gone_for_good_but_a_semver_line_left_is_major() -> None:
    assessment = classify(None, V1, CompatibilityLevel.BACKWARD, SemVer(2, 1, 0))
    assert assessment.change is MAJOR
    assert "continue from 2.1.0" in assessment.reasons[0]


def test_classify_compares_with_the_reference_when_there_is_one() -> None:
    added = avro_record(field("id", "string"), field("x", "int", default=0))
    assert classify(V1, added, CompatibilityLevel.BACKWARD, SemVer(1, 0, 0)).change is MINOR


@pytest.mark.parametrize(
    ("previous", "change", "expected"),
    [
        (None, MINOR, False),
        (SemVer(1, 0, 0), MAJOR, False),
        (SemVer(1, 0, 0), MINOR, True),
        (SemVer(1, 0, 0), PATCH, True),
    ],
)
def test_transitive_check_is_needed_only_below_major_with_a_history(
    previous: SemVer | None, change: ChangeClass, expected: bool
) -> None:
    assert needs_transitive_check(previous, ChangeAssessment(change, ())) is expected


def test_transitive_failure_without_the_next_major_declared_is_refused_with_its_paths() -> None:
    with pytest.raises(MajorNotDeclaredError, match=r"declare 2\.0\.0") as caught:
        gate_version(SemVer(1, 3, 0), None, _minor(), BROKEN)
    assert [i.path for i in caught.value.incompatibilities] == ["/fields/x"]
    with pytest.raises(MajorNotDeclaredError):
        gate_version(SemVer(1, 3, 0), SemVer(1, 9, 0), _minor(), BROKEN)


def test_transitive_failure_declared_as_the_next_major_becomes_major() -> None:
    version, assessment = gate_version(SemVer(1, 3, 0), SemVer(2, 0, 0), _minor(), BROKEN)
    assert version == SemVer(2, 0, 0)
    assert assessment.change is MAJOR
    assert [i.path for i in assessment.incompatibilities] == ["/fields/x"]


def test_transitive_success_keeps_the_class_and_bumps_minor() -> None:
    version, assessment = gate_version(SemVer(1, 3, 0), None, _minor(), CompatibilityResult())
    assert (version, assessment.change) == (SemVer(1, 4, 0), MINOR)


def test_undeclared_major_is_refused_as_major_not_declared() -> None:
    with pytest.raises(MajorNotDeclaredError, match=r"declare version 2\.0\.0"):
        gate_version(SemVer(1, 3, 0), None, ChangeAssessment(MAJOR, ("x removed",)))


def test_understated_version_is_refused_as_understated() -> None:
    with pytest.raises(VersionUnderstatedError, match="understates a MAJOR change") as caught:
        gate_version(SemVer(1, 3, 0), SemVer(1, 4, 0), ChangeAssessment(MAJOR, ("x removed",)))
    assert caught.value.problems == ("x removed",)


def test_confluent_registration_never_refuses_and_bumps_the_major_on_an_incompatible_change() -> None:
    assert confluent_version(SemVer(1, 3, 2), ChangeAssessment(MAJOR, ())) == SemVer(2, 0, 0)
    assert confluent_version(SemVer(1, 3, 2), ChangeAssessment(PATCH, ())) == SemVer(1, 3, 3)
    assert confluent_version(None, ChangeAssessment(MAJOR, ("first version",))) == SemVer(1, 0, 0)
