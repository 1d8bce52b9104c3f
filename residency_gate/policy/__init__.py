"""The residency matrix: its YAML format, validation with line numbers, and the compiled, immutable model."""

from residency_gate.policy.compile import document_hash
from residency_gate.policy.loader import (
    empty_policy,
    load_policy_document,
    load_policy_file,
    load_policy_text,
)
from residency_gate.policy.model import Dataset, Effect, Policy, Redact, RedactAction, Rule, RuleMatch, Sink

__all__ = [
    "Dataset",
    "Effect",
    "Policy",
    "Redact",
    "RedactAction",
    "Rule",
    "RuleMatch",
    "Sink",
    "document_hash",
    "empty_policy",
    "load_policy_document",
    "load_policy_file",
    "load_policy_text",
]
