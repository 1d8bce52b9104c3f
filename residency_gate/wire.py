"""The one JSON codec of the gate's routes and decisions: pydantic models for the API, the client and the log.

Evaluation works on the frozen dataclasses of :mod:`residency_gate.evaluate`, which stay free of I/O and
validation cost; these models are their shape on the wire. The service parses requests with them, answers
with them, and takes its OpenAPI schema from them; :class:`~residency_gate.client.GateClient` encodes routes
and decodes decisions with them; the audit log records a route in the same shape. A malformed route is a
:class:`~residency_gate.errors.RouteError` naming the field path.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from residency_gate.errors import RouteError
from residency_gate.evaluate import (
    MAX_SCHEMA_VERSION,
    MAX_SUBJECT_LENGTH,
    Decision,
    FieldTag,
    Outcome,
    Redaction,
    Route,
    RunRef,
    SchemaRef,
    SchemaVersion,
)

logger = logging.getLogger(__name__)

MAX_BATCH = 10_000

Name = Annotated[StrictStr, Field(min_length=1)]
VersionNumber = Annotated[StrictInt, Field(ge=1, le=MAX_SCHEMA_VERSION)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class FieldTagModel(_Wire):
    name: Name
    tags: list[Name] = []


class SchemaRefModel(_Wire):
    """A registry subject version (``latest`` or a number from 1) and, optionally, the schema id the
    route's records carry (their ``spine.schema_id``), which the version must have or the route is denied."""

    subject: Annotated[StrictStr, Field(min_length=1, max_length=MAX_SUBJECT_LENGTH)]
    version: VersionNumber | Literal["latest"] = "latest"
    id: Annotated[StrictInt, Field(ge=0, le=2**63 - 1)] | None = None

    @field_validator("subject")
    @classmethod
    def _printable(cls, subject: str) -> str:
        if not subject.isprintable():
            raise ValueError(f"must be 1 to {MAX_SUBJECT_LENGTH} printable characters")
        return subject


class RouteModel(_Wire):
    """Data of ``dataset`` moving from ``source_region`` (default: its home) to a region or a sink."""

    dataset: Name
    destination_region: Name | None = None
    sink: Name | None = None
    source_region: Name | None = None
    purpose: Name | None = None
    fields: list[FieldTagModel] = []
    schema_: SchemaRefModel | None = Field(default=None, alias="schema")

    @model_validator(mode="after")
    def _coherent(self) -> RouteModel:
        if self.destination_region is None and self.sink is None:
            raise ValueError("a route needs 'destination_region' or 'sink'")
        seen: set[str] = set()
        for index, item in enumerate(self.fields):
            if item.name in seen:
                raise ValueError(f"fields[{index}].name '{item.name}' is listed twice")
            seen.add(item.name)
        return self

    def to_route(self) -> Route:
        schema = None
        if self.schema_ is not None:
            schema = SchemaRef(self.schema_.subject, self.schema_.version, self.schema_.id)
        return Route(
            dataset=self.dataset,
            destination_region=self.destination_region,
            sink=self.sink,
            source_region=self.source_region,
            purpose=self.purpose,
            fields=tuple(FieldTag(f.name, tuple(f.tags)) for f in self.fields),
            schema=schema,
        )

    @classmethod
    def of(cls, route: Route) -> RouteModel:
        schema = None
        if route.schema is not None:
            ref = route.schema
            schema = SchemaRefModel(subject=ref.subject, version=ref.version, id=ref.id)
        return cls(
            dataset=route.dataset,
            destination_region=route.destination_region,
            sink=route.sink,
            source_region=route.source_region,
            purpose=route.purpose,
            fields=[FieldTagModel(name=f.name, tags=list(f.tags)) for f in route.fields],
            schema_=schema,
        )


class RunJobModel(_Wire):
    namespace: Annotated[StrictStr, Field(min_length=1, max_length=1024)]
    name: Annotated[StrictStr, Field(min_length=1, max_length=1024)]


class RunModel(_Wire):
    """The OpenLineage run whose routes a batch holds (``run_id`` a UUID, and the run's job).

    Given, the gate sends that run one event on ``_spine.lineage`` whose ``spine_residency`` run facet lists
    every decision of the batch, in the transaction that records them in the audit log.
    """

    run_id: uuid.UUID
    job: RunJobModel

    def to_run(self) -> RunRef:
        return RunRef(str(self.run_id), self.job.namespace, self.job.name)

    @classmethod
    def of(cls, run: RunRef) -> RunModel:
        return cls(
            run_id=uuid.UUID(run.run_id), job=RunJobModel(namespace=run.job_namespace, name=run.job_name)
        )


class EvaluateBatch(_Wire):
    """Routes to decide, and optionally the lineage run they belong to (batch-level only)."""

    routes: Annotated[list[RouteModel], Field(min_length=1, max_length=MAX_BATCH)]
    run: RunModel | None = None


class RedactionModel(_Wire):
    field: StrictStr
    action: StrictStr
    reason: StrictStr = ""
    tags: list[StrictStr] = []


class DecisionModel(_Wire):
    """A decision as the gate answers it; ``allowed`` is false exactly for a deny."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    decision_id: StrictStr
    outcome: Outcome
    allowed: bool
    reasons: list[StrictStr]
    redactions: list[RedactionModel]
    policy_version: StrictStr
    policy_hash: StrictStr
    route: RouteModel
    classification: StrictStr | None = None
    source_region: StrictStr | None = None
    destination_region: StrictStr | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DecisionModel:
        if self.allowed != (self.outcome is not Outcome.DENY):
            raise ValueError(f"'allowed' is {self.allowed} for outcome {self.outcome.value}")
        return self

    def to_decision(self) -> Decision:
        return Decision(
            decision_id=self.decision_id,
            outcome=self.outcome,
            reasons=tuple(self.reasons),
            redactions=tuple(Redaction(r.field, r.action, r.reason, tuple(r.tags)) for r in self.redactions),
            policy_version=self.policy_version,
            policy_hash=self.policy_hash,
            route=self.route.to_route(),
            classification=self.classification,
            source_region=self.source_region,
            destination_region=self.destination_region,
        )

    @classmethod
    def of(cls, decision: Decision) -> DecisionModel:
        return cls(
            decision_id=decision.decision_id,
            outcome=decision.outcome,
            allowed=decision.allowed,
            reasons=list(decision.reasons),
            redactions=[
                RedactionModel(field=r.field, action=r.action, reason=r.reason, tags=list(r.tags))
                for r in decision.redactions
            ],
            policy_version=decision.policy_version,
            policy_hash=decision.policy_hash,
            route=RouteModel.of(decision.route),
            classification=decision.classification,
            source_region=decision.source_region,
            destination_region=decision.destination_region,
        )


class EvaluateAnswer(_Wire):
    decisions: list[DecisionModel]


# --- errors ---------------------------------------------------------------------------------------------


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _sentence(error: ErrorDetails, label: str = "route") -> str:
    loc = tuple(error["loc"])
    if label == "route" and "version" in loc:
        # A union's branches add their own names after the field; name the field only.
        where = _path(loc[: loc.index("version") + 1])
        return f"route field '{where}' must be 'latest' or a version number from 1 to {MAX_SCHEMA_VERSION}"
    where = f"{label} field '{_path(loc)}'"
    kind = error["type"]
    if kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{where} {message}" if loc else message
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden":
        return f"unknown {where}"
    if kind in {"string_type", "string_too_short", "string_too_long"}:
        return f"{where} must be a non-empty string" if kind != "string_too_long" else f"{where} is too long"
    if kind == "list_type":
        return f"{where} must be a list"
    if kind in {"model_type", "model_attributes_type"}:
        return f"{where} must be an object"
    return f"{where}: {error['msg']}"


def _route_error(exc: ValidationError) -> RouteError:
    return RouteError(_sentence(exc.errors(include_url=False)[0]))


# --- the codec ------------------------------------------------------------------------------------------


def route_from_dict(data: Any) -> Route:
    """A :class:`Route` from request or file data; raises ``RouteError`` naming the bad field."""
    if not isinstance(data, Mapping):
        raise RouteError("a route must be an object")
    try:
        return RouteModel.model_validate(data).to_route()
    except ValidationError as exc:
        raise _route_error(exc) from None


def routes_from_request(payload: Any) -> tuple[list[Route], bool]:
    """The routes of an evaluate request (one route, or ``{"routes": [...]}``) and whether it was a batch."""
    if isinstance(payload, Mapping) and "routes" in payload:
        if not set(payload) <= {"routes", "run"}:
            raise RouteError("a batch body may have only the keys 'routes' and 'run'")
        items = payload["routes"]
        if not isinstance(items, list) or not items:
            raise RouteError("'routes' must be a non-empty list of route objects")
        if len(items) > MAX_BATCH:
            raise RouteError(f"a batch holds at most {MAX_BATCH} routes, not {len(items)}")
        routes: list[Route] = []
        for index, item in enumerate(items):
            try:
                routes.append(route_from_dict(item))
            except RouteError as exc:
                raise RouteError(f"routes[{index}]: {exc}") from None
        return routes, True
    return [route_from_dict(payload)], False


def run_from_request(payload: Any) -> RunRef | None:
    """The lineage run an evaluate batch names (``{"routes": [...], "run": {...}}``), or None."""
    if not isinstance(payload, Mapping) or "run" not in payload:
        return None
    try:
        return RunModel.model_validate(payload["run"]).to_run()
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        if error["type"].startswith("uuid"):
            raise RouteError(f"run field '{_path(tuple(error['loc']))}' must be a UUID") from None
        raise RouteError(_sentence(error, "run")) from None


def run_to_dict(run: RunRef) -> dict[str, Any]:
    return RunModel.of(run).model_dump(mode="json")


def schema_version_from(value: Any, where: str = "schema.version") -> SchemaVersion:
    """``latest`` or a version number in [1, 2^31-1]; raises ``RouteError`` naming ``where``."""
    try:
        return _VERSION.validate_python(value)
    except ValidationError:
        raise RouteError(
            f"route field '{where}' must be 'latest' or a version number from 1 to {MAX_SCHEMA_VERSION}"
        ) from None


def route_to_dict(route: Route) -> dict[str, Any]:
    """The route as JSON data; ``schema`` only when the route names one, and its ``id`` only when stated
    (as the audit log records it)."""
    data = RouteModel.of(route).model_dump(mode="json", by_alias=True)
    _trim_schema(data, route)
    return data


def _trim_schema(data: dict[str, Any], route: Route) -> None:
    if route.schema is None:
        del data["schema"]
    elif route.schema.id is None:
        del data["schema"]["id"]


def decision_to_dict(decision: Decision) -> dict[str, Any]:
    data = DecisionModel.of(decision).model_dump(mode="json", by_alias=True)
    _trim_schema(data["route"], decision.route)
    return data


def decisions_json(decisions: list[Decision]) -> str:
    """The evaluate answer ``{"decisions": [...]}`` as JSON text."""
    return json.dumps({"decisions": [decision_to_dict(d) for d in decisions]})


def decision_from_dict(data: Any) -> Decision:
    """A :class:`Decision` from the API's JSON; raises ``RouteError`` for a malformed one."""
    try:
        return DecisionModel.model_validate(data).to_decision()
    except ValidationError as exc:
        raise RouteError(f"malformed decision: {_sentence(exc.errors(include_url=False)[0])}") from None


_VERSION: TypeAdapter[SchemaVersion] = TypeAdapter(VersionNumber | Literal["latest"])


def _inline(schema: Any, definitions: Mapping[str, Any]) -> Any:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, definitions) for item in schema]
    return schema


def json_schema(model: Any) -> dict[str, Any]:
    """A self-contained JSON Schema (no ``$ref``) for ``model``, to embed in the OpenAPI document."""
    raw = TypeAdapter(model).json_schema(by_alias=True)
    inlined: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    return inlined


__all__ = [
    "MAX_BATCH",
    "DecisionModel",
    "EvaluateAnswer",
    "EvaluateBatch",
    "FieldTagModel",
    "RedactionModel",
    "RouteModel",
    "RunJobModel",
    "RunModel",
    "SchemaRefModel",
    "decision_from_dict",
    "decision_to_dict",
    "decisions_json",
    "json_schema",
    "route_from_dict",
    "route_to_dict",
    "routes_from_request",
    "run_from_request",
    "run_to_dict",
    "schema_version_from",
]
