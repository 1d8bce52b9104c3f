"""Compiling a validated matrix: the policy hash; refusing rules that contradict each other or never apply.

A rule that can never take effect is almost always a mistake in a security policy, so it is refused, not
silently ignored: an allow rule whose whole scope lies inside a deny rule's scope, and a rule whose sink lies
outside its own ``to`` regions.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import rfc8785

from residency_gate.errors import PolicyError
from residency_gate.policy.model import Dataset, Effect, Policy, Rule, Sink

logger = logging.getLogger(__name__)


def document_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 hex of the RFC 8785 canonical JSON of the parsed policy document."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def _covers(outer: frozenset[str] | None, inner: frozenset[str] | None) -> bool:
    return outer is None or (inner is not None and inner <= outer)


def _covers_classes(
    outer: frozenset[str] | None, inner: frozenset[str] | None, lineages: Mapping[str, tuple[str, ...]]
) -> bool:
    if outer is None:
        return True
    if inner is None:
        return False
    return all(not outer.isdisjoint(lineages.get(name, (name,))) for name in inner)


def shadows(deny: Rule, allow: Rule, lineages: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether every route ``allow`` covers is also covered by ``deny`` (so ``allow`` never takes effect)."""
    return (
        _covers(deny.datasets, allow.datasets)
        and _covers_classes(deny.classifications, allow.classifications, lineages)
        and _covers(deny.sources, allow.sources)
        and _covers(deny.destinations, allow.destinations)
        and _covers(deny.sinks, allow.sinks)
        and _covers(deny.purposes, allow.purposes)
    )


def check_rules(
    rules: tuple[Rule, ...], sinks: Mapping[str, Sink], lineages: Mapping[str, tuple[str, ...]], source: str
) -> None:
    """Refuse contradictory or unreachable rules with a ``PolicyError`` on the offending rule's line."""
    denies = [rule for rule in rules if rule.effect is Effect.DENY]
    for rule in rules:
        if rule.sinks is not None and rule.destinations is not None:
            outside = sorted(name for name in rule.sinks if sinks[name].region not in rule.destinations)
            if outside:
                regions = ", ".join(f"{name} is in {sinks[name].region}" for name in outside)
                raise PolicyError(
                    source, rule.line, f"rule '{rule.id}' can never apply to sink: {regions}, not in 'to'"
                )
        if rule.effect is Effect.ALLOW:
            for deny in denies:
                if shadows(deny, rule, lineages):
                    raise PolicyError(
                        source,
                        rule.line,
                        f"rule '{rule.id}' contradicts deny rule '{deny.id}' (line {deny.line}), "
                        "which covers everything it allows",
                    )


def build_policy(
    *,
    version: str,
    document: Mapping[str, Any],
    regions: frozenset[str],
    lineages: Mapping[str, tuple[str, ...]],
    datasets: Mapping[str, Dataset],
    sinks: Mapping[str, Sink],
    rules: tuple[Rule, ...],
) -> Policy:
    return Policy(
        version=version,
        hash=document_hash(document),
        document=copy.deepcopy(dict(document)),
        regions=regions,
        lineages=MappingProxyType(dict(lineages)),
        datasets=MappingProxyType(dict(datasets)),
        sinks=MappingProxyType(dict(sinks)),
        rules=rules,
    )


__all__ = ["build_policy", "check_rules", "document_hash", "shadows"]
