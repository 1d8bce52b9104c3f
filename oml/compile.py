"""Compiling a validated pipeline into a deterministic manifest and its plan (pure over a CompileContext).

The manifest is canonical JSON (sorted keys, no timestamps, no absolute paths, secrets masked), so the same
OML, parameters, component specs, schema versions and residency matrix give the same bytes. It carries
SHA-256 fingerprints of the OML text, the parameters, each component spec used and the manifest itself.
The plan lists topics read and written, sinks, schemas and versions, column lineage per step, and the
residency decision of every data route: each source into the pipeline's region, and each source to every
sink it feeds. A denied route fails the compile with the gate's reasons. Redactions of all routes of a
source are applied at that source (a drop anywhere wins over a mask), so columns the gate drops cannot be
referenced downstream.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oml.components import canonical_json, load_components, sha256
from oml.context import CompileContext, field_names
from oml.errors import Issue, OmlCode, OmlInvalidError, RouteDeniedError
from oml.expressions import columns_read
from oml.validate import OML_VERSION, Pipeline, Step
from residency_gate.evaluate import Decision, Route, SchemaRef
from spine.registry_client import SubjectVersion
from spine.topics import dlq_topic

MANIFEST_VERSION = 1
Lineage = dict[str, tuple[str, ...]]  # column -> source columns ("dataset.field")


@dataclass(frozen=True, slots=True)
class Compiled:
    manifest: Mapping[str, Any]
    text: str  # the manifest's bytes as written (canonical, indented JSON)

    @property
    def plan(self) -> Mapping[str, Any]:
        plan: Mapping[str, Any] = self.manifest["plan"]
        return plan

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["fingerprints"]["manifest"])


@dataclass(frozen=True, slots=True)
class _RouteSpec:
    source: Step
    target: Step | None  # None: the source's own read into the pipeline's region
    route: Route


def manifest_text(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def compile_pipeline(pipeline: Pipeline, context: CompileContext, *, source: str = "<pipeline>") -> Compiled:
    """The manifest of ``pipeline``; RouteDeniedError if the gate denies a route, OmlInvalidError if a step
    reads a column its input does not have."""
    versions: dict[str, SubjectVersion] = {}
    for step in pipeline.steps:
        if step.component == "kafka.governed_source":
            subject = context.subject_of(step.config["dataset"])
            versions[step.id] = context.schema(subject, step.config.get("major"))
        elif step.component == "kafka.governed_sink":
            versions[step.id] = context.schema(step.config["subject"], None)
    routes = _routes(pipeline, versions)
    decisions = list(context.decide([r.route for r in routes]))
    denied = [
        Issue(OmlCode.ROUTE_DENIED, f"steps[{r.source.index}]", r.source.line, _denied_sentence(r, d))
        for r, d in zip(routes, decisions, strict=True)
        if not d.allowed
    ]
    if denied:
        raise RouteDeniedError(source, denied)
    redactions = _source_redactions(routes, decisions)
    lineage, issues = _lineage(pipeline, versions, redactions)
    if issues:
        raise OmlInvalidError(source, issues)
    manifest = _manifest(pipeline, versions, routes, decisions, redactions, lineage)
    return Compiled(manifest, manifest_text(manifest))


def _downstream_writes(pipeline: Pipeline, start: str) -> list[Step]:
    out: list[Step] = []
    frontier = [start]
    while frontier:
        current = frontier.pop(0)
        for step in pipeline.downstream(current):
            if step.mode == "write":
                out.append(step)
            frontier.append(step.id)
    return out


def _routes(pipeline: Pipeline, versions: Mapping[str, SubjectVersion]) -> list[_RouteSpec]:
    out: list[_RouteSpec] = []
    for step in pipeline.steps:
        if step.component != "kafka.governed_source":
            continue
        cfg = step.config
        version = versions[step.id]
        schema = SchemaRef(version.subject, version.version)
        common = {"dataset": cfg["dataset"], "purpose": cfg.get("purpose"), "schema": schema}
        out.append(
            _RouteSpec(step, None, Route(destination_region=cfg["region"], sink=cfg.get("sink"), **common))
        )
        for target in _downstream_writes(pipeline, step.id):
            if target.component == "sql.table_sink":
                route = Route(sink=target.config["sink"], **common)
            else:
                route = Route(destination_region=target.config.get("region", cfg["region"]), **common)
            out.append(_RouteSpec(step, target, route))
    return out


def _denied_sentence(spec: _RouteSpec, decision: Decision) -> str:
    route = spec.route
    to = f"sink {route.sink}" if route.sink else f"region {route.destination_region}"
    via = "into the pipeline" if spec.target is None else f"to step {spec.target.id}"
    return f"route of {route.dataset} to {to} ({via}) is denied: {'; '.join(decision.reasons)}"


def _source_redactions(
    routes: Sequence[_RouteSpec], decisions: Sequence[Decision]
) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for spec, decision in zip(routes, decisions, strict=True):
        actions = out.setdefault(spec.source.id, {})
        for redaction in decision.redactions:
            if actions.get(redaction.field) != "drop":
                actions[redaction.field] = redaction.action
    return out


def _lineage(
    pipeline: Pipeline, versions: Mapping[str, SubjectVersion], redactions: Mapping[str, Mapping[str, str]]
) -> tuple[dict[str, Lineage], list[Issue]]:
    lineage: dict[str, Lineage] = {}
    issues: list[Issue] = []
    for step in pipeline.steps:
        cfg = step.config
        at = f"steps[{step.index}].config"
        if step.component == "kafka.governed_source":
            dataset = cfg["dataset"]
            dropped = {f for f, a in redactions.get(step.id, {}).items() if a == "drop"}
            lineage[step.id] = {
                name: (f"{dataset}.{name}",) for name in field_names(versions[step.id]) if name not in dropped
            }
            continue
        assert step.upstream is not None
        upstream = lineage[step.upstream]

        def need(columns: Sequence[str], path: str, step: Step = step, upstream: Lineage = upstream) -> None:
            for column in columns:
                if column not in upstream:
                    have = ", ".join(sorted(upstream)) or "none"
                    issues.append(
                        Issue(
                            OmlCode.UNKNOWN_COLUMN,
                            path,
                            step.line,
                            f"step {step.id} reads column {column!r}, which its input does not have "
                            f"(it has {have})",
                        )
                    )

        def sources(columns: Sequence[str], upstream: Lineage = upstream) -> tuple[str, ...]:
            return tuple(sorted({s for c in columns for s in upstream.get(c, ())}))

        if step.component == "transform.filter":
            [reads] = columns_read([cfg["where"]])
            need(reads, f"{at}.where")
            lineage[step.id] = dict(upstream)
        elif step.component == "transform.sql":
            names = list(cfg["select"])
            reads_all = columns_read([cfg["select"][n] for n in names])
            out = dict(upstream) if cfg.get("keep", True) else {}
            for name, reads in zip(names, reads_all, strict=True):
                need(reads, f"{at}.select.{name}")
                out[name] = sources(reads)
            lineage[step.id] = out
        elif step.component == "transform.project":
            need(list(cfg["columns"].values()), f"{at}.columns")
            lineage[step.id] = {out: sources([src]) for out, src in cfg["columns"].items()}
        elif step.component == "transform.window_aggregate":
            need([cfg["key"]], f"{at}.key")
            out = {cfg["key"]: sources([cfg["key"]]), "window_start": (), "window_end": ()}
            for name, agg in cfg["aggregates"].items():
                column = agg.get("column")
                if column is not None:
                    need([column], f"{at}.aggregates.{name}.column")
                out[name] = sources([column] if column else [])
            lineage[step.id] = out
        elif step.component == "quality.expectations":
            for j, item in enumerate(cfg["expectations"]):
                if "column" in item:
                    need([item["column"]], f"{at}.expectations[{j}].column")
            lineage[step.id] = dict(upstream)
        elif step.component == "sql.table_sink":
            need(cfg["key"], f"{at}.key")
            lineage[step.id] = dict(upstream)
        elif step.component == "kafka.governed_sink":
            if "key" in cfg:
                need([cfg["key"]], f"{at}.key")
            lineage[step.id] = dict(upstream)
    return lineage, issues


def _decision_dict(decision: Decision) -> dict[str, Any]:
    """A decision without its id (a fresh one each time), so the manifest stays byte-identical."""
    return {
        "outcome": decision.outcome.value,
        "reasons": list(decision.reasons),
        "redactions": [
            {"field": r.field, "action": r.action, "reason": r.reason} for r in decision.redactions
        ],
        "policy_version": decision.policy_version,
        "policy_hash": decision.policy_hash,
        "source_region": decision.source_region,
        "destination_region": decision.destination_region,
    }


def _schema_dict(version: SubjectVersion) -> dict[str, Any]:
    return {
        "subject": version.subject,
        "version": version.version,
        "schema_id": version.schema_id,
        "semver": version.semver,
        "type": version.schema_type,
    }


def _manifest(
    pipeline: Pipeline,
    versions: Mapping[str, SubjectVersion],
    routes: Sequence[_RouteSpec],
    decisions: Sequence[Decision],
    redactions: Mapping[str, Mapping[str, str]],
    lineage: Mapping[str, Lineage],
) -> dict[str, Any]:
    specs = load_components()
    steps: list[dict[str, Any]] = []
    topics_read: list[dict[str, Any]] = []
    topics_written: list[dict[str, Any]] = []
    sinks: list[dict[str, Any]] = []
    dlq: set[str] = set()
    source_topic: dict[str, str] = {}
    for step in pipeline.steps:
        entry: dict[str, Any] = {
            "id": step.id,
            "component": step.component,
            "mode": step.mode,
            "upstream": step.upstream,
            "config": step.config,
            "connection": None if step.connection is None else step.connection.masked(),
            "columns": {c: list(s) for c, s in lineage[step.id].items()},
        }
        if step.upstream is not None:
            source_topic[step.id] = source_topic[step.upstream]
        if step.component == "kafka.governed_source":
            version = versions[step.id]
            source_topic[step.id] = version.topic
            entry["schema"] = _schema_dict(version)
            entry["topic"] = version.topic
            entry["redactions"] = dict(sorted(redactions.get(step.id, {}).items()))
            read = {"dataset": step.config["dataset"], "topic": version.topic, **_schema_dict(version)}
            topics_read.append({"step": step.id, **read})
            dlq.add(dlq_topic(version.topic))
        elif step.component == "kafka.governed_sink":
            version = versions[step.id]
            entry["schema"] = _schema_dict(version)
            entry["topic"] = version.topic
            topics_written.append({"step": step.id, "topic": version.topic, **_schema_dict(version)})
            sinks.append(
                {
                    "step": step.id,
                    "kind": "topic",
                    "topic": version.topic,
                    "subject": version.subject,
                    "exactly_once": bool(step.config.get("exactly_once", False)),
                }
            )
        elif step.component == "sql.table_sink":
            alias = step.connection.alias if step.connection is not None else None
            sql = {
                "table": step.config["table"],
                "key": list(step.config["key"]),
                "sink": step.config["sink"],
            }
            sinks.append({"step": step.id, "kind": "sql", "connection": alias, **sql})
        if step.component == "quality.expectations":
            entry["dlq_topic"] = dlq_topic(source_topic[step.id])
        steps.append(entry)
    route_entries = [
        {
            "source_step": spec.source.id,
            "target_step": None if spec.target is None else spec.target.id,
            "dataset": spec.route.dataset,
            "destination_region": spec.route.destination_region,
            "sink": spec.route.sink,
            "purpose": spec.route.purpose,
            "schema": None if spec.route.schema is None else str(spec.route.schema),
            "decision": _decision_dict(decision),
        }
        for spec, decision in zip(routes, decisions, strict=True)
    ]
    schemas = {(v.subject, v.version): _schema_dict(v) for v in versions.values()}
    used = sorted({s.component for s in pipeline.steps})
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "oml_version": OML_VERSION,
        "pipeline": {"name": pipeline.name, "description": pipeline.description},
        "params": dict(pipeline.params),
        "steps": steps,
        "plan": {
            "topics_read": topics_read,
            "topics_written": topics_written,
            "dlq_topics": sorted(dlq),
            "sinks": sinks,
            "schemas": [schemas[k] for k in sorted(schemas)],
            "routes": route_entries,
        },
        "fingerprints": {
            "oml": sha256(pipeline.text.encode()),
            "params": sha256(canonical_json(dict(pipeline.params))),
            "components": {name: specs[name].fingerprint for name in used},
        },
    }
    manifest["fingerprints"]["manifest"] = sha256(canonical_json(manifest))
    return manifest


def verify_fingerprint(manifest: Mapping[str, Any]) -> bool:
    """Whether the manifest's own fingerprint matches its content (it was not edited after compiling)."""
    body = json.loads(json.dumps(manifest))
    claimed = body["fingerprints"].pop("manifest", None)
    return bool(claimed == sha256(canonical_json(body)))


__all__ = ["MANIFEST_VERSION", "Compiled", "compile_pipeline", "manifest_text", "verify_fingerprint"]
