"""The lint rule table: every rule by name, with the cross-type classification-tag rule.

Imports only the rule modules, so :mod:`registry.lint.config` can validate names against it.
"""

from __future__ import annotations

from collections.abc import Iterator

from registry.lint import avro, jsonschema, protobuf, protobuf_evolution
from registry.lint.model import ChangeRule, Rule, Severity
from registry.lint.walk import fields
from registry.schemas.model import ParsedSchema, SchemaType

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


def default_severities() -> dict[str, Severity]:
    """Each rule's default severity, by name."""
    return {name: rule.default for name, rule in RULES.items()}
