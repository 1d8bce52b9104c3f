"""Reading pipeline inputs from files (the I/O shell around :mod:`oml.validate` and :mod:`oml.compile`).

The connections file is ``--connections``, else ``connections.yaml`` beside the pipeline, else none.
For offline compiles a residency matrix file and ``SUBJECT=SCHEMA_FILE`` pairs stand in for the gate and
the registry (each schema as version 1 of its subject, on the subject's ``.v1`` topic).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oml.connections import Connections, parse_connections
from oml.context import StaticContext
from oml.errors import OmlInvalidError
from oml.validate import Pipeline, validate
from spine.errors import ConfigError
from spine.governed.topics import subject_base
from spine.registry_client import SubjectVersion

CONNECTIONS_FILE = "connections.yaml"


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from exc


def connections_path(pipeline: Path, explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    beside = pipeline.parent / CONNECTIONS_FILE
    return beside if beside.is_file() else None


def load_connections(path: Path | None) -> Connections:
    if path is None:
        return Connections.empty()
    connections, issues = parse_connections(read_text(path, "connections file"), str(path))
    if issues:
        raise OmlInvalidError(str(path), issues)
    return connections


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {pair}: expected NAME=VALUE")
        out[name] = value
    return out


def load_pipeline(
    path: Path,
    *,
    connections: Path | None = None,
    params: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Pipeline:
    text = read_text(path, "pipeline")
    conns = load_connections(connections_path(path, connections))
    return validate(
        text, source=str(path), connections=conns, env=os.environ if env is None else env, params=params
    )


def static_context(matrix: Path, schemas: Sequence[str]) -> StaticContext:
    from residency_gate.policy import load_policy_file

    policy = load_policy_file(matrix)
    versions: dict[str, SubjectVersion] = {}
    for pair in schemas:
        subject, sep, file = pair.partition("=")
        if not sep or not subject or not file:
            raise ConfigError(f"--schema {pair}: expected SUBJECT=SCHEMA_FILE")
        text = read_text(Path(file), "schema")
        versions[subject] = _version(subject, text, Path(file))
    return StaticContext(policy, versions)


def _version(subject: str, text: str, path: Path) -> SubjectVersion:
    try:
        parsed: Any = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: not a JSON schema (Avro or JSON Schema): {exc}") from exc
    kind = "AVRO" if isinstance(parsed, dict) and "fields" in parsed else "JSON"
    members = parsed.get("fields") if kind == "AVRO" else list((parsed.get("properties") or {}).items())
    tags: list[tuple[str, tuple[str, ...]]] = []
    for member in members or []:
        name, body = (member.get("name"), member) if kind == "AVRO" else member
        found = body.get("confluent:tags") if isinstance(body, dict) else None
        if isinstance(name, str) and isinstance(found, list):
            tags.append((name, tuple(str(t) for t in found)))
    topic = f"{subject_base(subject)}.v1"
    return SubjectVersion(subject, 1, 0, kind, text, "1.0.0", topic, tuple(tags))


__all__ = [
    "connections_path",
    "load_connections",
    "load_pipeline",
    "parse_params",
    "read_text",
    "static_context",
]
