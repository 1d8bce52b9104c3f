"""The rule table, the cross-type classification-tag rule, and ``lint_schema`` that runs them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from registry.lint import avro, jsonschema, protobuf, protobuf_evolution
from registry.lint.config import LintConfig
from registry.lint.model import ChangeRule, LintFinding, Rule, Severity
from registry.lint.walk import fields
from registry.schemas.model import ParsedSchema, SchemaType

logger = logging.getLogger(__name__)

CLASSIFICATION_RULE = "fields.classification-tag-required"


def classification_tag_required(schema: ParsedSchema) -> Iterator[tuple[str, str]]:
    """Each leaf field is tagged itself or through an enclosing field's tag."""
    tagged_prefixes: list[str] = []
    for info in fields(schema):
        if info.tags:
            tagged_prefixes.append(info.name_path + ".")
        covered = info.tags or any(info.name_path.startswith(prefix) for prefix in tagged_prefixes)
        if not covered and not info.nested:
            yield info.pointer, f"field {info.name_path} carries no classification tag (e.g. PII, PUBLIC)"


_ALL: list[Rule | ChangeRule] = [
    *avro.RULES,
    *protobuf.RULES,
    *protobuf_evolution.RULES,
    *jsonschema.RULES,
    Rule(
        CLASSIFICATION_RULE,
        "every field carries a classification tag, directly or through its parent",
        Severity.WARN,
        frozenset(SchemaType),
        classification_tag_required,
    ),
]
RULES: dict[str, Rule | ChangeRule] = {rule.name: rule for rule in _ALL}


def rule_names() -> list[str]:
    """Every rule name, sorted."""
    return sorted(RULES)


def rule_descriptions() -> dict[str, str]:
    """Each rule's one-line description, by name."""
    return {name: RULES[name].description for name in rule_names()}


def default_severities() -> dict[str, Severity]:
    """Each rule's default severity, by name."""
    return {name: rule.default for name, rule in RULES.items()}


def lint_schema(
    schema: ParsedSchema, config: LintConfig, previous: ParsedSchema | None = None
) -> list[LintFinding]:
    """Run every enabled rule that applies to the schema's type; errors first, then warnings.

    Rules that compare versions run only when ``previous`` (the subject's latest version) is given.
    """
    findings: list[LintFinding] = []
    for name in rule_names():
        rule = RULES[name]
        severity = config.severity(name)
        if severity is Severity.OFF or schema.schema_type not in rule.schema_types:
            continue
        if isinstance(rule, ChangeRule):
            if previous is None or previous.schema_type != schema.schema_type:
                continue
            found = rule.check(previous, schema)
        else:
            found = rule.check(schema)
        findings.extend(LintFinding(name, severity, path, message) for path, message in found)
    return sorted(findings, key=lambda f: f.severity is not Severity.ERROR)
