"""``lint_schema``, which runs the enabled rules of :mod:`registry.lint.table` over a schema."""

from __future__ import annotations

import logging

from registry.lint.config import LintConfig
from registry.lint.model import ChangeRule, LintFinding, Severity
from registry.lint.table import RULES
from registry.schemas.model import ParsedSchema

logger = logging.getLogger(__name__)


def rule_names() -> list[str]:
    """Every rule name, sorted."""
    return sorted(RULES)


def rule_descriptions() -> dict[str, str]:
    """Each rule's one-line description, by name."""
    return {name: RULES[name].description for name in rule_names()}


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
