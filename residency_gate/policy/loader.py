"""Loading a residency matrix from YAML: strict validation with line numbers, then compilation.

The file format is documented in ``examples/residency/matrix.yaml``. Loading never half-succeeds: any
problem raises :class:`~residency_gate.errors.PolicyError` naming the source, the line and the problem.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from residency_gate.errors import PolicyError
from residency_gate.policy.compile import build_policy, check_rules
from residency_gate.policy.model import Dataset, Effect, Policy, Redact, RedactAction, Rule, Sink
from residency_gate.policy.nodes import NodeReader, compose, line_of, plain

logger = logging.getLogger(__name__)

TOP_KEYS = ("version", "description", "regions", "classifications", "datasets", "sinks", "rules")
DATASET_KEYS = ("home", "classification", "replicas", "subject", "description")
MAX_SUBJECT_LENGTH = 255
SINK_KEYS = ("region", "allowed_classifications", "description")
RULE_KEYS = ("id", "allow", "deny", "description")
SCOPE_KEYS = ("dataset", "classification", "from", "to", "sink", "purpose")
REDACT_KEYS = ("fields_tagged", "action")


class _PolicyReader(NodeReader):
    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.regions: frozenset[str] = frozenset()
        self.lineages: dict[str, tuple[str, ...]] = {}
        self.datasets: dict[str, Dataset] = {}
        self.sinks: dict[str, Sink] = {}

    def read(self, root: yaml.Node) -> Policy:
        top = self.mapping(root, "the policy", allowed=TOP_KEYS, required=("version", "regions"))
        version = self.string(top["version"][1], "version")
        if "description" in top:
            self.string(top["description"][1], "description")
        self.regions = frozenset(name for name, _ in self.strings(top["regions"][1], "regions"))
        if "classifications" in top:
            self._classifications(top["classifications"][1])
        if "datasets" in top:
            self._datasets(top["datasets"][1])
        if "sinks" in top:
            self._sinks(top["sinks"][1])
        rules = self._rules(top["rules"][1]) if "rules" in top else ()
        check_rules(rules, self.sinks, self.lineages, self.source)
        return build_policy(
            version=version,
            document=plain(root),
            regions=self.regions,
            lineages=self.lineages,
            datasets=self.datasets,
            sinks=self.sinks,
            rules=rules,
        )

    def _classifications(self, node: yaml.Node) -> None:
        for name, item in self.strings(node, "classifications"):
            parent, _, _ = name.rpartition(".")
            if parent and parent not in self.lineages:
                self.fail(item, f"classification '{name}' needs its parent '{parent}' listed before it")
            self.lineages[name] = (name, *self.lineages[parent]) if parent else (name,)

    def _region(self, node: yaml.Node, where: str) -> str:
        name = self.string(node, where)
        if name not in self.regions:
            self.fail(node, f"{where} names undefined region '{name}'")
        return name

    def _classification(self, node: yaml.Node, where: str) -> str:
        name = self.string(node, where)
        if name not in self.lineages:
            self.fail(node, f"{where} names undefined classification '{name}'")
        return name

    def _datasets(self, node: yaml.Node) -> None:
        for name, (_, value) in self.mapping(node, "datasets").items():
            where = f"dataset '{name}'"
            entries = self.mapping(value, where, allowed=DATASET_KEYS, required=("home", "classification"))
            if "description" in entries:
                self.string(entries["description"][1], f"{where} description")
            home = self._region(entries["home"][1], f"{where} home")
            classification = self._classification(entries["classification"][1], f"{where} classification")
            replicas: frozenset[str] = frozenset()
            if "replicas" in entries:
                replicas = frozenset(
                    self._region(item, f"{where} replicas")
                    for _, item in self.strings(entries["replicas"][1], f"{where} replicas", scalar_ok=True)
                )
                if home in replicas:
                    self.fail(entries["replicas"][1], f"{where} replicas names its home region '{home}'")
            subject = None
            if "subject" in entries:
                subject_node = entries["subject"][1]
                subject = self.string(subject_node, f"{where} subject")
                if len(subject) > MAX_SUBJECT_LENGTH or not subject.isprintable():
                    self.fail(
                        subject_node,
                        f"{where} subject must be 1 to {MAX_SUBJECT_LENGTH} printable characters",
                    )
            self.datasets[name] = Dataset(name, home, classification, replicas, subject)

    def _sinks(self, node: yaml.Node) -> None:
        for name, (_, value) in self.mapping(node, "sinks").items():
            where = f"sink '{name}'"
            entries = self.mapping(
                value, where, allowed=SINK_KEYS, required=("region", "allowed_classifications")
            )
            if "description" in entries:
                self.string(entries["description"][1], f"{where} description")
            region = self._region(entries["region"][1], f"{where} region")
            allowed = frozenset(
                self._classification(item, f"{where} allowed_classifications")
                for _, item in self.strings(
                    entries["allowed_classifications"][1], f"{where} allowed_classifications"
                )
            )
            self.sinks[name] = Sink(name, region, allowed)

    def _rules(self, node: yaml.Node) -> tuple[Rule, ...]:
        rules: list[Rule] = []
        seen: dict[str, int | None] = {}
        for index, item in enumerate(self.sequence(node, "rules")):
            entries = self.mapping(item, f"rule #{index + 1}", allowed=RULE_KEYS, required=("id",))
            rule_id = self.string(entries["id"][1], f"rule #{index + 1} id")
            if rule_id in seen:
                self.fail(
                    entries["id"][1], f"duplicate rule id '{rule_id}' (first used on line {seen[rule_id]})"
                )
            seen[rule_id] = line_of(item)
            if "description" in entries:
                self.string(entries["description"][1], f"rule '{rule_id}' description")
            effects = [effect for effect in Effect if effect.value in entries]
            if len(effects) != 1:
                self.fail(item, f"rule '{rule_id}' must have exactly one of 'allow' or 'deny'")
            rules.append(self._rule(rule_id, effects[0], entries[effects[0].value][1], line_of(item)))
        return tuple(rules)

    def _rule(self, rule_id: str, effect: Effect, node: yaml.Node, line: int | None) -> Rule:
        where = f"rule '{rule_id}' {effect.value}"
        allowed = (*SCOPE_KEYS, "redact") if effect is Effect.ALLOW else SCOPE_KEYS
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            node = yaml.MappingNode("tag:yaml.org,2002:map", [], node.start_mark, node.end_mark)
        entries = self.mapping(node, where, allowed=allowed)

        def names(key: str, check: Any = None) -> frozenset[str] | None:
            if key not in entries:
                return None
            items = self.strings(entries[key][1], f"{where} '{key}'", scalar_ok=True)
            if check is not None:
                for _, item in items:
                    check(item)
            return frozenset(name for name, _ in items)

        def dataset(item: yaml.Node) -> None:
            if item.value not in self.datasets:
                self.fail(item, f"{where} names undefined dataset '{item.value}'")

        def sink(item: yaml.Node) -> None:
            if item.value not in self.sinks:
                self.fail(item, f"{where} names undefined sink '{item.value}'")

        return Rule(
            id=rule_id,
            effect=effect,
            datasets=names("dataset", dataset),
            classifications=names("classification", lambda n: self._classification(n, where)),
            sources=names("from", lambda n: self._region(n, f"{where} 'from'")),
            destinations=names("to", lambda n: self._region(n, f"{where} 'to'")),
            sinks=names("sink", sink),
            purposes=names("purpose"),
            redact=self._redact(entries["redact"][1], where) if "redact" in entries else None,
            line=line,
        )

    def _redact(self, node: yaml.Node, where: str) -> Redact:
        entries = self.mapping(node, f"{where} redact", allowed=REDACT_KEYS, required=REDACT_KEYS)
        tagged = frozenset(
            self._classification(item, f"{where} redact fields_tagged")
            for _, item in self.strings(entries["fields_tagged"][1], f"{where} redact fields_tagged")
        )
        action_node = entries["action"][1]
        action = self.string(action_node, f"{where} redact action")
        if action not in {a.value for a in RedactAction}:
            self.fail(action_node, f"{where} redact action must be 'drop' or 'mask', not '{action}'")
        return Redact(tagged, RedactAction(action))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def load_policy_text(text: str, source: str = "<policy>") -> Policy:
    """Validate and compile a YAML (or JSON) residency matrix; raises ``PolicyError`` naming the line."""
    if _SURROGATE_ESCAPE.search(text):
        # YAML reads a JSON surrogate-pair escape as two lone surrogates; JSON reads it as one character.
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    try:
        policy = _PolicyReader(source).read(compose(text, source))
    except (ValueError, RecursionError) as exc:
        raise PolicyError(source, None, f"the policy cannot be read: {exc}") from exc
    logger.debug("loaded policy %s (%s) from %s", policy.version, policy.hash, source)
    return policy


def load_policy_file(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), None, f"cannot read the policy file: {exc}") from exc
    return load_policy_text(text, str(path))


def load_policy_document(document: Mapping[str, Any], source: str = "<policy>") -> Policy:
    """Validate a policy already parsed (a JSON request body); lines refer to its indented JSON."""
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise PolicyError(source, None, f"the policy is not JSON-compatible data: {exc}") from exc
    return load_policy_text(text, source)


def empty_policy() -> Policy:
    """The deny-all policy in force before any matrix is loaded."""
    document = {
        "version": "0",
        "regions": [],
        "classifications": [],
        "datasets": {},
        "sinks": {},
        "rules": [],
    }
    return build_policy(
        version="0",
        document=document,
        regions=frozenset(),
        lineages={},
        datasets={},
        sinks={},
        rules=(),
    )


__all__ = ["empty_policy", "load_policy_document", "load_policy_file", "load_policy_text"]
