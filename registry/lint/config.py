"""Lint configuration: which severity each rule has, built from plain mappings (global, per subject)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from registry.errors import LintConfigError
from registry.lint.model import Severity
from registry.lint.table import RULES, default_severities


@dataclass(frozen=True)
class LintConfig:
    """Severities by rule name; rules not listed use their default severity."""

    rules: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> LintConfig:
        """Build from ``{"rule": "error|warn|off"}``; unknown rules or severities raise LintConfigError."""
        if not isinstance(mapping, Mapping):
            raise LintConfigError("lint configuration must map rule names to error, warn or off")
        rules: dict[str, Severity] = {}
        for name, value in mapping.items():
            if name not in RULES:
                raise LintConfigError(f"unknown lint rule {name!r}; known rules: {', '.join(sorted(RULES))}")
            try:
                rules[name] = Severity(str(value).lower())
            except ValueError:
                raise LintConfigError(
                    f"lint rule {name!r} has unknown severity {value!r}; expected error, warn or off"
                ) from None
        return cls(MappingProxyType(rules))

    @classmethod
    def default(cls) -> LintConfig:
        """Every rule at its default severity."""
        return cls(MappingProxyType(default_severities()))

    def merged(self, override: LintConfig | Mapping[str, object]) -> LintConfig:
        """This configuration with ``override``'s rules taking precedence."""
        other = override if isinstance(override, LintConfig) else LintConfig.from_mapping(override)
        return LintConfig(MappingProxyType({**self.rules, **other.rules}))

    def severity(self, rule: str) -> Severity:
        """The severity ``rule`` runs at."""
        if rule in self.rules:
            return self.rules[rule]
        return RULES[rule].default if rule in RULES else Severity.OFF

    def as_dict(self) -> dict[str, str]:
        """Plain ``{"rule": "severity"}`` for storage and JSON."""
        return {name: severity.value for name, severity in sorted(self.rules.items())}
