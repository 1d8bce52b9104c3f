"""Deciding one route against a compiled policy: allow, deny, or allow with named fields redacted.

Pure and fast: no I/O, no clock; rule matching is cached per (dataset, classification, route) in the policy.
Anything not explicitly allowed is denied; every reason names the rule, dataset, region or sink it is about.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from residency_gate.policy.model import Dataset, Policy, Rule, Sink

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    ALLOW_WITH_REDACTION = "allow_with_redaction"


@dataclass(frozen=True, slots=True)
class FieldTag:
    """A field of the dataset's schema and the classification tags the registry gives it."""

    name: str
    tags: tuple[str, ...]


MAX_SCHEMA_VERSION = 2**31 - 1
MAX_SUBJECT_LENGTH = 255
SchemaVersion = int | Literal["latest"]


@dataclass(frozen=True, slots=True)
class SchemaRef:
    """A registry subject version whose tagged fields describe the route's records (``latest`` or 1, 2, …),
    and optionally the global schema id the records carry, which that version must have."""

    subject: str
    version: SchemaVersion = "latest"
    id: int | None = None

    def __str__(self) -> str:
        return f"{self.subject} version {self.version}"


@dataclass(frozen=True, slots=True)
class RunRef:
    """The OpenLineage run a caller evaluates routes for: its id and its job's namespace and name."""

    run_id: str
    job_namespace: str
    job_name: str


@dataclass(frozen=True, slots=True)
class Route:
    """Data of ``dataset`` moving from ``source_region`` (default: its home) to a region or a sink.

    ``schema`` names the registry version whose field tags apply; the service resolves it into ``fields``
    (and a ``latest`` into its number) before evaluation, which only ever reads ``fields``.
    """

    dataset: str
    destination_region: str | None = None
    sink: str | None = None
    source_region: str | None = None
    purpose: str | None = None
    fields: tuple[FieldTag, ...] = ()
    schema: SchemaRef | None = None


@dataclass(frozen=True, slots=True)
class Redaction:
    field: str
    action: str
    reason: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    decision_id: str
    outcome: Outcome
    reasons: tuple[str, ...]
    redactions: tuple[Redaction, ...]
    policy_version: str
    policy_hash: str
    route: Route
    classification: str | None
    source_region: str | None = None
    destination_region: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is not Outcome.DENY


_PAST = {"drop": "dropped", "mask": "masked"}


class _DeniedError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _where(destination: str, sink: str | None, purpose: str | None) -> str:
    text = f"to {destination}" if sink is None else f"to sink {sink} ({destination})"
    return text if purpose is None else f"{text} for purpose {purpose}"


def _ids(rules: tuple[Rule, ...]) -> str:
    return ", ".join(rule.id for rule in rules)


def _conditional_reason(rule: Rule, moving: str) -> str:
    if rule.redact is None:
        return f"rule {rule.id} allows {moving}"
    tagged = ", ".join(sorted(rule.redact.fields_tagged))
    return f"rule {rule.id} allows {moving} provided fields tagged {tagged} are {_PAST[rule.redact.action]}"


@dataclass(slots=True)
class _Evaluation:
    policy: Policy
    dataset: Dataset
    source: str
    destination: str
    sink: Sink | None
    purpose: str | None

    @property
    def sink_name(self) -> str | None:
        return None if self.sink is None else self.sink.name

    def tag_blocker(self, tag: str) -> str | None:
        """Why a field tagged ``tag`` may not move on this route by itself, or None if it may."""
        match = self.policy.match(
            self.dataset.name, tag, self.source, self.destination, self.sink_name, self.purpose
        )
        if match.denies:
            return f"rule {_ids(match.denies)} denies {tag}"
        lineage = self.policy.lineages.get(tag, (tag,))
        # A rule allowing the tag on condition that other fields are redacted allows this field as it is.
        if not match.allows and all(rule.redacts(lineage) for rule in match.conditional_allows):
            return f"no rule allows {tag} {_where(self.destination, self.sink_name, self.purpose)}"
        if self.sink is not None and not self.policy.accepts(self.sink, tag):
            return f"sink {self.sink.name} does not accept {tag}"
        return None

    def run(self, fields: tuple[FieldTag, ...]) -> tuple[list[str], list[Redaction]]:
        ds = self.dataset
        where = _where(self.destination, self.sink_name, self.purpose)
        moving = f"{ds.name} ({ds.classification}) from {self.source} {where}"
        match = self.policy.match(
            ds.name, ds.classification, self.source, self.destination, self.sink_name, self.purpose
        )
        if match.denies:
            raise _DeniedError(f"rule {_ids(match.denies)} denies {moving}")
        if not match.allows and not match.conditional_allows:
            raise _DeniedError(f"no rule allows {moving}")
        conditional = not match.allows
        record_redactors: tuple[Rule, ...] = ()
        if conditional:
            lineage = self.policy.lineages[ds.classification]
            record_redactors = tuple(r for r in match.conditional_allows if r.redacts(lineage))
        if record_redactors and not self._carried(fields, ds.classification):
            raise _DeniedError(
                f"rule {_ids(record_redactors)} allows {moving} only with its {ds.classification} fields "
                f"redacted, and no field of the route is tagged {ds.classification}, so which fields carry "
                "it is unknown"
            )
        if (
            self.sink is not None
            and not record_redactors
            and not self.policy.accepts(self.sink, ds.classification)
        ):
            raise _DeniedError(f"sink {self.sink.name} does not accept classification {ds.classification}")
        if conditional:
            reasons = [_conditional_reason(rule, moving) for rule in match.conditional_allows]
        else:
            reasons = [f"rule {_ids(match.allows)} allows {moving}"]
        redactions: list[Redaction] = []
        for item in fields:
            redaction = self._field(item, match.conditional_allows)
            if redaction is not None:
                redactions.append(redaction)
        return reasons, redactions

    def _carried(self, fields: tuple[FieldTag, ...], classification: str) -> bool:
        """Whether some field carries ``classification`` or a classification below it."""
        return any(
            classification in self.policy.lineages.get(tag, ()) for item in fields for tag in item.tags
        )

    def _field(self, item: FieldTag, redactors: tuple[Rule, ...]) -> Redaction | None:
        """None if every tag may move; a redaction if a matching allow rule redacts it; else deny."""
        blockers: list[tuple[tuple[str, ...], str]] = []
        for tag in item.tags:
            lineage = self.policy.lineage(tag)
            if lineage is None:
                raise _DeniedError(
                    f"field {item.name} carries tag {tag}, which is not a classification in the matrix"
                )
            why = self.tag_blocker(tag)
            if why is not None:
                blockers.append((lineage, why))
        if not blockers:
            return None
        label = f"field {item.name} ({', '.join(item.tags)})"
        why = "; ".join(reason for _, reason in blockers)
        for rule in redactors:
            if rule.redact is not None and any(rule.redacts(lineage) for lineage, _ in blockers):
                reason = f"{label} is {_PAST[rule.redact.action]} by rule {rule.id}: {why}"
                return Redaction(item.name, rule.redact.action.value, reason, item.tags)
        raise _DeniedError(f"{label} may not move: {why}")


def _resolve(policy: Policy, route: Route, quarantined: frozenset[str]) -> _Evaluation:
    if route.sink is not None and route.sink in quarantined:
        raise _DeniedError(f"sink {route.sink} is quarantined")
    dataset = policy.datasets.get(route.dataset)
    if dataset is None:
        raise _DeniedError(f"dataset {route.dataset} is not in the residency matrix")
    if dataset.subject is not None and (route.schema is None or route.schema.subject != dataset.subject):
        named = "names no schema" if route.schema is None else f"names subject {route.schema.subject}"
        raise _DeniedError(
            f"dataset {dataset.name} takes its field tags from registry subject {dataset.subject}, "
            f"and the route {named}"
        )
    source = route.source_region or dataset.home
    if source not in policy.regions:
        raise _DeniedError(f"source region {source} is not in the residency matrix")
    if not dataset.holds_copy_in(source):
        replicas = ", ".join(sorted(dataset.replicas)) or "no region"
        raise _DeniedError(
            f"dataset {dataset.name} has no copy in {source}: its home is {dataset.home} and the matrix "
            f"records replicas in {replicas}"
        )
    sink: Sink | None = None
    destination = route.destination_region
    if route.sink is not None:
        sink = policy.sinks.get(route.sink)
        if sink is None:
            raise _DeniedError(f"sink {route.sink} is not in the residency matrix")
        if destination is not None and destination != sink.region:
            raise _DeniedError(
                f"sink {sink.name} is in {sink.region}, not in the route's destination region {destination}"
            )
        destination = sink.region
    if destination is None:
        raise _DeniedError("the route names neither a destination region nor a sink")
    if destination not in policy.regions:
        raise _DeniedError(f"destination region {destination} is not in the residency matrix")
    return _Evaluation(policy, dataset, source, destination, sink, route.purpose)


def evaluate(
    policy: Policy,
    route: Route,
    *,
    quarantined: frozenset[str] = frozenset(),
    decision_id: str | None = None,
) -> Decision:
    """Decide ``route`` under ``policy``; denies whatever is not allowed; never raises for a typed route."""
    try:
        evaluation = _resolve(policy, route, quarantined)
        reasons, redactions = evaluation.run(route.fields)
    except _DeniedError as denied:
        return deny(policy, route, denied.reason, decision_id=decision_id)
    outcome = Outcome.ALLOW_WITH_REDACTION if redactions else Outcome.ALLOW
    reasons.extend(r.reason for r in redactions)
    return Decision(
        decision_id or str(uuid.uuid4()), outcome, tuple(reasons), tuple(redactions), policy.version,
        policy.hash, route, evaluation.dataset.classification, evaluation.source, evaluation.destination,
    )  # fmt: skip


def deny(policy: Policy, route: Route, reason: str, *, decision_id: str | None = None) -> Decision:
    """A DENY of ``route`` for ``reason`` under ``policy``, resolved as far as the matrix allows.

    ``evaluate`` uses it for every denial; the service uses it when a route cannot even be evaluated
    (its schema's field tags could not be read).
    """
    dataset = policy.datasets.get(route.dataset)
    classification = None if dataset is None else dataset.classification
    source = route.source_region or (None if dataset is None else dataset.home)
    sink = None if route.sink is None else policy.sinks.get(route.sink)
    destination = route.destination_region or (None if sink is None else sink.region)
    return Decision(
        decision_id or str(uuid.uuid4()), Outcome.DENY, (reason,), (), policy.version, policy.hash,
        route, classification, source, destination,
    )  # fmt: skip


__all__ = [
    "MAX_SCHEMA_VERSION",
    "MAX_SUBJECT_LENGTH",
    "Decision",
    "FieldTag",
    "Outcome",
    "Redaction",
    "Route",
    "RunRef",
    "SchemaRef",
    "SchemaVersion",
    "deny",
    "evaluate",
]
