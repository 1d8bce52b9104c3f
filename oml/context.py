"""What compiling needs from the world, behind one interface so :mod:`oml.compile` stays pure.

:class:`CompileContext` answers three questions: which registry subject carries a dataset, which version of a
subject is in force, and what the residency gate decides about a list of routes. :class:`LiveContext` asks
the running registry and gate (I/O, fails closed: an unreachable gate denies); :class:`StaticContext`
answers from a residency matrix and schema versions held in memory, with the gate's own pure evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from oml.errors import OmlError
from spine.errors import ConfigError, ExitCode
from spine.registry_client import SubjectVersion

if TYPE_CHECKING:
    from residency_gate.client import GateClient
    from residency_gate.evaluate import Decision, Route
    from residency_gate.policy.model import Policy
    from spine.registry_client import RegistryClient


class NotGovernedDatasetError(OmlError, ConfigError):
    """A pipeline names a dataset or subject the spine does not govern."""

    exit_code = ExitCode.REFUSED


class CompileContext(Protocol):
    def subject_of(self, dataset: str) -> str: ...

    def schema(self, subject: str, major: int | None) -> SubjectVersion: ...

    def decide(self, routes: Sequence[Route]) -> Sequence[Decision]: ...


def field_names(version: SubjectVersion) -> tuple[str, ...]:
    """Top-level field names of a version's schema (Avro record fields, JSON Schema properties), in order;
    for Protobuf only the tagged ones the registry reports."""
    try:
        parsed: Any = json.loads(version.schema)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("fields"), list):
        return tuple(str(f["name"]) for f in parsed["fields"] if isinstance(f, dict) and "name" in f)
    if isinstance(parsed, dict) and isinstance(parsed.get("properties"), dict):
        return tuple(str(k) for k in parsed["properties"])
    return tuple(name for name, _ in version.tags)


def _subject_in(document: Any, dataset: str) -> str | None:
    datasets = document.get("datasets") if isinstance(document, dict) else None
    entry = datasets.get(dataset) if isinstance(datasets, dict) else None
    if not isinstance(entry, dict):
        return None
    subject = entry.get("subject")
    return subject if isinstance(subject, str) else None


@dataclass
class StaticContext:
    """A matrix and schema versions in memory; decisions by :func:`residency_gate.evaluate.evaluate`."""

    policy: Policy
    versions: Mapping[str, SubjectVersion]  # subject -> version in force

    def subject_of(self, dataset: str) -> str:
        subject = _subject_in(self.policy.document, dataset)
        if subject is None:
            raise NotGovernedDatasetError(
                f"dataset {dataset} has no registry subject in the residency matrix"
            )
        return subject

    def schema(self, subject: str, major: int | None) -> SubjectVersion:
        version = self.versions.get(subject)
        if version is None or (major is not None and version.major != major):
            raise NotGovernedDatasetError(f"subject {subject} is not registered")
        return version

    def decide(self, routes: Sequence[Route]) -> Sequence[Decision]:
        from residency_gate.evaluate import FieldTag, evaluate

        out = []
        for route in routes:
            version = self.versions.get(route.schema.subject) if route.schema is not None else None
            fields = () if version is None else tuple(FieldTag(n, t) for n, t in version.tags)
            out.append(evaluate(self.policy, replace(route, fields=fields), decision_id="static"))
        return out


class LiveContext:
    """The running registry and residency gate (I/O)."""

    def __init__(self, gate: GateClient, registry: RegistryClient) -> None:
        self._gate = gate
        self._registry = registry
        self._policy: dict[str, Any] | None = None

    def subject_of(self, dataset: str) -> str:
        from residency_gate.client import GateUnavailableError

        if self._policy is None:
            self._policy = self._gate.policy()
            if self._policy is None:
                raise GateUnavailableError(f"residency gate unreachable at {self._gate.url}")
        subject = _subject_in(self._policy.get("document"), dataset)
        if subject is None:
            raise NotGovernedDatasetError(
                f"dataset {dataset} has no registry subject in the residency matrix "
                f"(version {self._policy.get('version')})"
            )
        return subject

    def schema(self, subject: str, major: int | None) -> SubjectVersion:
        from spine.registry_client import SUBJECT_NOT_FOUND, RegistryClientError

        try:
            if major is None:
                return self._registry.latest(subject)
            return self._registry.latest_in_major(subject, major)
        except RegistryClientError as exc:
            if exc.error_code == SUBJECT_NOT_FOUND:
                raise NotGovernedDatasetError(f"subject {subject} is not registered") from exc
            raise

    def decide(self, routes: Sequence[Route]) -> Sequence[Decision]:
        return self._gate.evaluate_batch(list(routes))


__all__ = ["CompileContext", "LiveContext", "NotGovernedDatasetError", "StaticContext", "field_names"]
