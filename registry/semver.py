"""The semantic-versioning gate: classify a schema change and check the version a publisher declares.

PATCH: only docs or metadata (tags) changed. MINOR: compatible under the subject's level (BACKWARD when
the level is NONE). MAJOR: incompatible, or the first version. A declared version may overstate the change
but never understate it, and a MAJOR change must be declared explicitly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from registry.change import ChangeClass
from registry.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    Incompatibility,
    check_compatibility,
)
from registry.diff import diff_schemas
from registry.errors import MajorNotDeclaredError, SemverError, VersionUnderstatedError
from registry.schemas.model import ParsedSchema

logger = logging.getLogger(__name__)

_SEMVER = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")
_SHOWN_REASONS = 3


@dataclass(frozen=True, order=True, slots=True)
class SemVer:
    """A ``MAJOR.MINOR.PATCH`` version (no pre-release or build parts)."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> SemVer:
        match = _SEMVER.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise SemverError(
                f"version {text!r} is not a semantic version: expected MAJOR.MINOR.PATCH such as 1.2.0",
                [f"malformed version {text!r}"],
            )
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def bump(self, change: ChangeClass) -> SemVer:
        """The smallest version after this one that announces ``change``."""
        if change is ChangeClass.MAJOR:
            return SemVer(self.major + 1, 0, 0)
        if change is ChangeClass.MINOR:
            return SemVer(self.major, self.minor + 1, 0)
        return SemVer(self.major, self.minor, self.patch + 1)


FIRST_VERSION = SemVer(1, 0, 0)


@dataclass(frozen=True, slots=True)
class ChangeAssessment:
    """A change's class, why (human sentences), and the incompatibilities behind a MAJOR class."""

    change: ChangeClass
    reasons: tuple[str, ...]
    incompatibilities: tuple[Incompatibility, ...] = ()

    def explanations(self) -> list[str]:
        """Incompatibilities (with paths) first, then the other reasons."""
        return [str(item) for item in self.incompatibilities] or list(self.reasons)


def assess_change(
    old: ParsedSchema | None, new: ParsedSchema, level: CompatibilityLevel | str
) -> ChangeAssessment:
    """Classify the change from ``old`` (the latest version, None for the first) to ``new``."""
    if old is None:
        return ChangeAssessment(ChangeClass.MAJOR, ("first version",))
    level = CompatibilityLevel(level)
    if level is CompatibilityLevel.NONE:
        level = CompatibilityLevel.BACKWARD
    changes = diff_schemas(old, new) if old.schema_type == new.schema_type else []
    described = tuple(f"{c.path}: {c.description}" for c in changes)
    if old.schema_type == new.schema_type and old.canonical_without_docs() == new.canonical_without_docs():
        if old.canonical() == new.canonical():
            return ChangeAssessment(ChangeClass.PATCH, ("no change beyond formatting",))
        return ChangeAssessment(ChangeClass.PATCH, described or ("documentation or metadata changed",))
    result = check_compatibility(level, new, [old])
    if result.compatible:
        return ChangeAssessment(ChangeClass.MINOR, described or (f"compatible under {level.value}",))
    reasons = tuple(str(item) for item in result.incompatibilities)
    return ChangeAssessment(ChangeClass.MAJOR, reasons, result.incompatibilities)


def resolve_version(previous: SemVer | None, declared: SemVer | None, assessment: ChangeAssessment) -> SemVer:
    """The version to record, or SemverError explaining why ``declared`` is refused."""
    if previous is None:
        return declared or FIRST_VERSION
    needed = previous.bump(assessment.change)
    why = assessment.explanations()
    shown = "; ".join(why[:_SHOWN_REASONS]) + (
        f" (and {len(why) - _SHOWN_REASONS} more)" if len(why) > 3 else ""
    )
    if declared is None:
        if assessment.change is ChangeClass.MAJOR:
            raise SemverError(
                f"this is a MAJOR change ({shown}); declare version {needed} to publish it, "
                f"which moves the governed topic to v{needed.major}",
                why,
            )
        return needed
    if declared <= previous:
        raise SemverError(
            f"declared version {declared} must be greater than the latest version {previous}; "
            f"the smallest acceptable version is {needed}",
            why,
        )
    if declared < needed:
        raise SemverError(
            f"declared version {declared} understates a {assessment.change.value} change ({shown}); "
            f"the smallest acceptable version is {needed}",
            why,
        )
    return declared


def classify(
    reference: ParsedSchema | None,
    new: ParsedSchema,
    level: CompatibilityLevel,
    previous: SemVer | None,
) -> ChangeAssessment:
    """Class a change against ``reference``, the newest version issued (soft-deleted or not: records written
    with it are on the topic); with every version gone for good but a semver line left, it is MAJOR."""
    if reference is None and previous is not None:
        why = f"no earlier version is left to compare with; versions continue from {previous}"
        return ChangeAssessment(ChangeClass.MAJOR, (why,))
    return assess_change(reference, new, level)


def needs_transitive_check(previous: SemVer | None, assessment: ChangeAssessment) -> bool:
    """Whether the gate must also check every earlier version: a transitive level can refuse what the
    newest version alone allows, and that makes the change MAJOR too."""
    return previous is not None and assessment.change is not ChangeClass.MAJOR


def gate_version(
    previous: SemVer | None,
    declared: SemVer | None,
    assessment: ChangeAssessment,
    transitive: CompatibilityResult | None = None,
) -> tuple[SemVer, ChangeAssessment]:
    """The spine API's gate: the version to record and the final class of the change.

    ``transitive`` is the check against every earlier version when :func:`needs_transitive_check` asked
    for one. Refuses (MajorNotDeclaredError) an incompatible change not declared as the next major, and
    (VersionUnderstatedError) a declared version below what the change needs or not above ``previous``.
    """
    if previous is not None and transitive is not None and not transitive.compatible:
        if declared is None or declared.major <= previous.major:
            raise MajorNotDeclaredError(
                f"this change is incompatible with an earlier version; declare "
                f"{previous.bump(ChangeClass.MAJOR)} to publish it as a MAJOR change",
                transitive.messages(),
                transitive.incompatibilities,
            )
        assessment = ChangeAssessment(
            ChangeClass.MAJOR, tuple(transitive.messages()), transitive.incompatibilities
        )
    try:
        return resolve_version(previous, declared, assessment), assessment
    except SemverError as exc:
        if declared is None and assessment.change is ChangeClass.MAJOR:
            raise MajorNotDeclaredError(str(exc), exc.problems, assessment.incompatibilities) from exc
        raise VersionUnderstatedError(str(exc), exc.problems, assessment.incompatibilities) from exc


def confluent_version(previous: SemVer | None, assessment: ChangeAssessment) -> SemVer:
    """The version a Confluent registration records: it never refuses, a MAJOR change bumps the major."""
    if previous is not None and assessment.change is ChangeClass.MAJOR:
        return previous.bump(ChangeClass.MAJOR)
    return resolve_version(previous, None, assessment)


__all__ = [
    "FIRST_VERSION",
    "ChangeAssessment",
    "ChangeClass",
    "SemVer",
    "assess_change",
    "classify",
    "confluent_version",
    "gate_version",
    "needs_transitive_check",
    "resolve_version",
]
