"""Compatibility levels and results: plain values shared by the checker and every schema type's rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CompatibilityLevel(StrEnum):
    """Confluent's compatibility levels; the ``_TRANSITIVE`` forms check every earlier version."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """New readers must read data written with earlier schemas."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """Earlier readers must read data written with the new schema."""
        return self.value.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason two schemas are incompatible: a JSON-pointer-like ``path`` and a sentence."""

    path: str
    message: str
    kind: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The outcome of a compatibility check; compatible when there is no incompatibility."""

    incompatibilities: tuple[Incompatibility, ...] = ()

    @property
    def compatible(self) -> bool:
        return not self.incompatibilities

    def messages(self) -> list[str]:
        """One line per incompatibility, path first (Confluent's verbose answer)."""
        return [str(item) for item in self.incompatibilities]
