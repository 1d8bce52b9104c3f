"""Schema linting at registration: configurable rules per schema type; ``error`` findings block.

Pure: rules read parsed schemas only.
"""

from __future__ import annotations

from registry.lint.config import LintConfig
from registry.lint.model import LintFinding, Severity
from registry.lint.rules import lint_schema, rule_descriptions, rule_names

__all__ = ["LintConfig", "LintFinding", "Severity", "lint_schema", "rule_descriptions", "rule_names"]
