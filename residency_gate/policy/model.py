"""The compiled residency matrix: regions, classifications, datasets, sinks and rules, ready for evaluation.

Everything here is immutable and built once by :mod:`residency_gate.policy.loader`; evaluation only reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)

MATCH_CACHE_LIMIT = 100_000


class Effect(StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class RedactAction(StrEnum):
    DROP = "drop"
    MASK = "mask"


@dataclass(frozen=True, slots=True)
class Dataset:
    """A dataset, its home region, the regions holding a replica, and the registry subject of its schema.

    A route may start from the home or a replica only. A dataset linked to a ``subject`` always takes its
    field tags from that subject in the registry, whatever the route lists.
    """

    name: str
    home: str
    classification: str
    replicas: frozenset[str] = frozenset()
    subject: str | None = None

    def holds_copy_in(self, region: str) -> bool:
        return region == self.home or region in self.replicas


@dataclass(frozen=True, slots=True)
class Sink:
    name: str
    region: str
    allowed_classifications: frozenset[str]


@dataclass(frozen=True, slots=True)
class Redact:
    """An allow rule's condition: fields tagged with (a descendant of) these classifications are redacted."""

    fields_tagged: frozenset[str]
    action: RedactAction


@dataclass(frozen=True, slots=True)
class Rule:
    """One allow or deny rule; a scope dimension of ``None`` matches anything, a set matches its members."""

    id: str
    effect: Effect
    datasets: frozenset[str] | None = None
    classifications: frozenset[str] | None = None
    sources: frozenset[str] | None = None
    destinations: frozenset[str] | None = None
    sinks: frozenset[str] | None = None
    purposes: frozenset[str] | None = None
    redact: Redact | None = None
    line: int | None = None

    def _covers(self, names: frozenset[str] | None, value: str | None) -> bool:
        """A scope dimension the route does not state matches every deny rule and no allow rule."""
        if names is None:
            return True
        if value is None:
            return self.effect is Effect.DENY
        return value in names

    def matches(
        self,
        dataset: str,
        lineage: tuple[str, ...],
        source: str,
        destination: str,
        sink: str | None,
        purpose: str | None,
    ) -> bool:
        """Whether this rule's scope covers an item of classification ``lineage[0]`` moving on this route."""
        return (
            (self.datasets is None or dataset in self.datasets)
            and (self.classifications is None or not self.classifications.isdisjoint(lineage))
            and (self.sources is None or source in self.sources)
            and (self.destinations is None or destination in self.destinations)
            and self._covers(self.sinks, sink)
            and self._covers(self.purposes, purpose)
        )

    def redacts(self, lineage: tuple[str, ...]) -> bool:
        return self.redact is not None and not self.redact.fields_tagged.isdisjoint(lineage)


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The rules that apply to one (dataset, classification, route) combination, in file order."""

    denies: tuple[Rule, ...]
    allows: tuple[Rule, ...]
    conditional_allows: tuple[Rule, ...]


MatchKey = tuple[str, str, str, str, str | None, str | None]


@dataclass(frozen=True, eq=False)
class Policy:
    """A validated, compiled residency matrix; ``hash`` is the SHA-256 of its RFC 8785 canonical document.

    Compare policies by ``hash``; instances compare and hash by identity so they can key caches.
    """

    version: str
    hash: str
    document: Mapping[str, Any]
    regions: frozenset[str] = frozenset()
    lineages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    datasets: Mapping[str, Dataset] = field(default_factory=dict)
    sinks: Mapping[str, Sink] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    _match_cache: dict[MatchKey, RuleMatch] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @property
    def classifications(self) -> frozenset[str]:
        return frozenset(self.lineages)

    def lineage(self, classification: str) -> tuple[str, ...] | None:
        """The classification followed by its ancestors (``PII.email`` → ``PII.email``, ``PII``)."""
        return self.lineages.get(classification)

    def accepts(self, sink: Sink, classification: str) -> bool:
        lineage = self.lineages.get(classification)
        return lineage is not None and not sink.allowed_classifications.isdisjoint(lineage)

    def match(
        self,
        dataset: str,
        classification: str,
        source: str,
        destination: str,
        sink: str | None,
        purpose: str | None,
    ) -> RuleMatch:
        """The rules covering ``classification`` of ``dataset`` on this route; cached per combination."""
        key: MatchKey = (dataset, classification, source, destination, sink, purpose)
        found = self._match_cache.get(key)
        if found is not None:
            return found
        lineage = self.lineages.get(classification, (classification,))
        denies: list[Rule] = []
        allows: list[Rule] = []
        conditional: list[Rule] = []
        for rule in self.rules:
            if not rule.matches(dataset, lineage, source, destination, sink, purpose):
                continue
            if rule.effect is Effect.DENY:
                denies.append(rule)
            elif rule.redact is None:
                allows.append(rule)
            else:
                conditional.append(rule)
        found = RuleMatch(tuple(denies), tuple(allows), tuple(conditional))
        if len(self._match_cache) >= MATCH_CACHE_LIMIT:
            self._match_cache.clear()
        self._match_cache[key] = found
        return found


__all__ = [
    "Dataset",
    "Effect",
    "Policy",
    "Redact",
    "RedactAction",
    "Rule",
    "RuleMatch",
    "Sink",
]
