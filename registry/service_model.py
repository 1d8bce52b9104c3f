"""What the registry service hands out and the small pure helpers it uses: the actor who publishes,
registration and publish results, governed topic names, and how refusals become problems."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from registry import contracts
from registry.compatibility import CompatibilityResult
from registry.errors import (
    GateRefusedError,
    IncompatibleSchemaError,
    InvalidSubjectError,
    MajorNotDeclaredError,
    Problem,
    SemverUnderstatedError,
    ServiceError,
)
from registry.lint import LintFinding, Severity
from registry.schemas import ParsedSchema
from registry.service_reads import SchemaInput
from registry.storage import StoredSchema
from registry.storage import repository as repo
from spine.topics import topic_name_problem

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who publishes: a name, whether the role may declassify (security, admin), and the credential the
    registry forwards to the residency gate to audit a declassification."""

    name: str
    may_declassify: bool
    authorization: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Registered:
    subject: str
    version: int
    schema_id: int
    semver: str


@dataclass(frozen=True, slots=True)
class Appended:
    """A version just appended, with the schema row when this write inserted it."""

    registered: Registered
    stored: StoredSchema | None
    parsed: ParsedSchema


@dataclass(slots=True)
class PublishResult:
    """The answer of the semver-gated publish (spine API)."""

    subject: str
    id: int | None
    version: int | None
    semver: str
    change: str
    reasons: list[str]
    topic: str
    lint: list[dict[str, str]]
    incompatibilities: list[dict[str, str]]
    dry_run: bool
    notice: str | None = None


def governed_topic(subject: str, major: int) -> str:
    base = subject
    for suffix in ("-value", "-key"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return f"{base}.v{major}"


def checked_topic(subject: str, major: int) -> str:
    """The governed topic of ``subject`` at ``major``, or InvalidSubjectError when Kafka would refuse it.

    The topic starts with the subject, so a character's position in the topic is its position in the subject.
    """
    topic = governed_topic(subject, major)
    problem = topic_name_problem(topic)
    if problem is not None:
        raise InvalidSubjectError(f"subject {subject!r}: {problem}")
    return topic


def lint_problems(findings: Sequence[LintFinding]) -> list[Problem]:
    return [Problem(f.path, f.message, f"lint:{f.rule}") for f in findings if f.severity is Severity.ERROR]


def finding_dicts(findings: Sequence[LintFinding]) -> list[dict[str, str]]:
    return [
        {"rule": f.rule, "severity": str(f.severity.value), "path": f.path, "message": f.message}
        for f in findings
    ]


def incompatibility_problems(result: CompatibilityResult) -> list[Problem]:
    return [Problem(i.path, i.message, i.kind) for i in result.incompatibilities]


Group = tuple[str, str | None]


def fingerprint_of(schema: ParsedSchema, item: SchemaInput) -> str:
    return repo.fingerprint(
        schema.schema_type.value, schema.canonical(), item.references, item.metadata, item.rule_set
    )


def group_of(name: str | None, item: SchemaInput) -> Group | None:
    """The compatibility group a new version falls in: the property's name and the version's value."""
    return None if name is None else (name, contracts.group_value(item.metadata, name))


def gate_refusal(subject: str, exc: GateRefusedError) -> ServiceError:
    """The API error for a refusal of the semver gate: 409 for an undeclared MAJOR, else 42240."""
    incompatible = [Problem(i.path, i.message, i.kind) for i in exc.incompatibilities]
    if isinstance(exc, MajorNotDeclaredError):
        return IncompatibleSchemaError(f"Schema for subject {subject!r}: {exc}", incompatible)
    problems = incompatible or [Problem("", reason, "semver") for reason in exc.problems]
    return SemverUnderstatedError(str(exc), problems or [Problem("", str(exc), "semver")])
