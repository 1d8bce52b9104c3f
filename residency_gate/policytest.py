"""Table-driven policy tests, like ``opa test``: routes with their expected outcome, run against a policy.

A case file is YAML::

    cases:
      - name: orders may go to the EU analytics sink
        route: {dataset: sales.orders, sink: analytics-eu}
        expect: allow                      # allow | deny | allow_with_redaction
        redact: [email]                    # optional: exactly these fields are redacted
        quarantined: [rogue-sink]          # optional: sinks quarantined for this case
        schema_fields:                     # the tagged fields the registry holds for the route's schema
          - {name: email, tags: [PII.email]}

Policy tests run without a registry: a route that names a ``schema``, or whose dataset the matrix ties to a
subject, needs ``schema_fields``, which stand for the registry's answer (merged with the route's ``fields``
exactly as the gate merges them).

A malformed case file raises :class:`~residency_gate.errors.PolicyError` naming its line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from residency_gate.errors import PolicyError, RouteError
from residency_gate.evaluate import FieldTag, Outcome, Route, evaluate
from residency_gate.policy.model import Policy
from residency_gate.policy.nodes import NodeReader, compose, line_of, plain
from residency_gate.tags import SchemaTags, apply_schema, link_schemas
from residency_gate.wire import route_from_dict

logger = logging.getLogger(__name__)

CASE_KEYS = ("name", "route", "expect", "redact", "quarantined", "schema_fields", "description")


@dataclass(frozen=True)
class Case:
    name: str
    route: Route
    expect: Outcome
    redact: tuple[str, ...] | None = None
    quarantined: frozenset[str] = frozenset()
    line: int | None = None
    schema_fields: tuple[FieldTag, ...] | None = None


@dataclass(frozen=True)
class CaseResult:
    name: str
    expected: str
    actual: str
    passed: bool
    reasons: tuple[str, ...]
    expected_redactions: tuple[str, ...] | None
    actual_redactions: tuple[str, ...]
    line: int | None = None


class _CaseReader(NodeReader):
    def read(self, root: yaml.Node) -> list[Case]:
        top = self.mapping(root, "the case file", allowed=("cases",), required=("cases",))
        cases: list[Case] = []
        names: set[str] = set()
        for index, node in enumerate(self.sequence(top["cases"][1], "cases")):
            case = self._case(index, node)
            if case.name in names:
                self.fail(node, f"duplicate case name '{case.name}'")
            names.add(case.name)
            cases.append(case)
        if not cases:
            self.fail(top["cases"][1], "the case file has no cases")
        return cases

    def _case(self, index: int, node: yaml.Node) -> Case:
        required = ("name", "route", "expect")
        entries = self.mapping(node, f"case #{index + 1}", allowed=CASE_KEYS, required=required)
        name = self.string(entries["name"][1], f"case #{index + 1} name")
        where = f"case '{name}'"
        route_node = entries["route"][1]
        self.mapping(route_node, f"{where} route")
        try:
            route = route_from_dict(plain(route_node))
        except RouteError as exc:
            self.fail(route_node, f"{where}: {exc}")
        schema_fields: tuple[FieldTag, ...] | None = None
        if "schema_fields" in entries:
            fields_node = entries["schema_fields"][1]
            try:
                schema_fields = route_from_dict(
                    {"dataset": "-", "sink": "-", "fields": plain(fields_node)}
                ).fields
            except RouteError as exc:
                self.fail(fields_node, f"{where} schema_fields: {exc}")
        elif route.schema is not None:
            self.fail(
                route_node,
                f"{where}: policy tests run without a registry; a route naming a 'schema' needs the case's "
                "'schema_fields' (the tagged fields the registry holds)",
            )
        expect_node = entries["expect"][1]
        expect = self.string(expect_node, f"{where} expect")
        if expect not in {outcome.value for outcome in Outcome}:
            choices = ", ".join(outcome.value for outcome in Outcome)
            self.fail(expect_node, f"{where} expect must be one of {choices}, not '{expect}'")
        redact: tuple[str, ...] | None = None
        if "redact" in entries:
            redact_node = entries["redact"][1]
            if isinstance(redact_node, yaml.SequenceNode) and not redact_node.value:
                redact = ()
            else:
                redact = tuple(sorted(field for field, _ in self.strings(redact_node, f"{where} redact")))
        quarantined: frozenset[str] = frozenset()
        if "quarantined" in entries:
            items = self.strings(entries["quarantined"][1], f"{where} quarantined")
            quarantined = frozenset(sink for sink, _ in items)
        if "description" in entries:
            self.string(entries["description"][1], f"{where} description")
        return Case(name, route, Outcome(expect), redact, quarantined, line_of(node), schema_fields)


def parse_cases(text: str, source: str = "<cases>") -> list[Case]:
    return _CaseReader(source).read(compose(text, source))


def load_cases(path: Path) -> list[Case]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), None, f"cannot read the case file: {exc}") from exc
    return parse_cases(text, str(path))


def _registry_view(policy: Policy, case: Case) -> Route | str:
    """The case's route as the gate would evaluate it after reading the registry, or why it cannot be."""
    route = link_schemas([case.route], policy)[0]
    if route.schema is None:
        if case.schema_fields is not None:
            return (
                f"the case gives schema_fields, but its route names no schema and dataset {route.dataset} "
                "is tied to no registry subject"
            )
        return route
    if case.schema_fields is None:
        return (
            f"dataset {route.dataset} takes its field tags from registry subject {route.schema.subject}; "
            "give the case 'schema_fields' (policy tests run without a registry)"
        )
    version = 1 if route.schema.version == "latest" else route.schema.version
    return apply_schema(route, SchemaTags(route.schema.subject, version, 0, case.schema_fields))


def run_case(policy: Policy, case: Case) -> CaseResult:
    route = _registry_view(policy, case)
    if isinstance(route, str):
        return CaseResult(case.name, case.expect.value, "error", False, (route,), case.redact, (), case.line)
    decision = evaluate(policy, route, quarantined=case.quarantined, decision_id=f"test:{case.name}")
    actual_redactions = tuple(sorted(r.field for r in decision.redactions))
    passed = decision.outcome is case.expect and (case.redact is None or case.redact == actual_redactions)
    return CaseResult(
        name=case.name,
        expected=case.expect.value,
        actual=decision.outcome.value,
        passed=passed,
        reasons=decision.reasons,
        expected_redactions=case.redact,
        actual_redactions=actual_redactions,
        line=case.line,
    )


def run_cases(policy: Policy, cases: Sequence[Case]) -> list[CaseResult]:
    """Evaluate every case; the caller exits non-zero if any result has ``passed`` false."""
    return [run_case(policy, case) for case in cases]


__all__ = ["Case", "CaseResult", "load_cases", "parse_cases", "run_case", "run_cases"]
