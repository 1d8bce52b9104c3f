"""How big a schema change is: the class both the diff (per element) and the semver gate (per version) use."""

from __future__ import annotations

from enum import StrEnum


class ChangeClass(StrEnum):
    """How big a schema change is, smallest first."""

    PATCH = "PATCH"
    MINOR = "MINOR"
    MAJOR = "MAJOR"

    @property
    def rank(self) -> int:
        return list(ChangeClass).index(self)


__all__ = ["ChangeClass"]
