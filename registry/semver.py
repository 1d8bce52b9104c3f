"""The semantic-versioning gate: classify a schema change and check the version a publisher declares.

PATCH: only docs or metadata (tags) changed. MINOR: compatible under the subject's level (BACKWARD when
the level is NONE). MAJOR: incompatible, or the first version. A declared version may overstate the change
but never understate it, and a MAJOR change must be declared explicitly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from registry.compatibility import CompatibilityLevel, Incompatibility, check_compatibility
from registry.errors import SemverError
from registry.schemas.model import ParsedSchema

logger = logging.getLogger(__name__)

_SEMVER = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})")
_SHOWN_REASONS = 3


class ChangeClass(StrEnum):
    """How big a schema change is, smallest first."""

    PATCH = "PATCH"
    MINOR = "MINOR"
    MAJOR = "MAJOR"

    @property
    def rank(self) -> int:
        return list(ChangeClass).index(self)


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
    from registry.diff import diff_schemas

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


__all__ = [
    "FIRST_VERSION",
    "ChangeAssessment",
    "ChangeClass",
    "SemVer",
    "assess_change",
    "resolve_version",
]
