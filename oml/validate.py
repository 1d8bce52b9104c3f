"""Validating an OML v0.1.0 document into a typed :class:`Pipeline` (pure: no file, network or clock).

Rules (each problem has its :class:`~oml.errors.OmlCode`, YAML path and line): required ``oml_version``
(exactly "0.1.0"), ``name`` and a non-empty ``steps`` list; forbidden top-level ``version``, ``connectors``,
``tasks`` and ``outputs``; optional ``description`` and ``params``. Each step has a unique ``id``, a known
``component``, a ``mode`` (read/transform/write) the component supports and a ``config`` its JSON Schema
accepts, and takes its input through ``needs: [step]`` and/or ``inputs: {name: "${step.output.name}"}``.
``${params.NAME}`` in a config value is replaced by the parameter. Connections resolve through
:mod:`oml.connections`; SQL expressions and patterns are checked. All problems are collected, then raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from oml.components import ComponentSpec, load_components
from oml.connections import Connections, ResolvedConnection, resolve
from oml.document import Document, Path, load_document
from oml.errors import Issue, OmlCode, OmlInvalidError
from oml.expressions import ExpressionError, columns_read

OML_VERSION = "0.1.0"
TOP_KEYS = frozenset({"oml_version", "name", "description", "params", "steps"})
FORBIDDEN_TOP_KEYS = frozenset({"version", "connectors", "tasks", "outputs"})
STEP_KEYS = frozenset({"id", "component", "mode", "config", "needs", "inputs", "description"})
MODES = ("read", "transform", "write")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")
STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
INPUT_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_-]*)\.output\.([A-Za-z_][A-Za-z0-9_]*)\}$")
PARAM_REF = re.compile(r"\$\{params\.([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    component: str
    mode: str
    config: Mapping[str, Any]  # parameters substituted, without its connection
    upstream: str | None
    connection: ResolvedConnection | None
    line: int | None
    index: int  # position in the file's steps list, for paths like steps[2].config


@dataclass(frozen=True, slots=True)
class Pipeline:
    name: str
    description: str | None
    params: Mapping[str, Any]
    steps: tuple[Step, ...]  # in topological order (sources first, ties in file order)
    text: str  # the OML as given, for fingerprinting

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def downstream(self, step_id: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.upstream == step_id)


@dataclass
class _Context:
    doc: Document
    connections: Connections
    env: Mapping[str, str]
    components: Mapping[str, ComponentSpec]
    params: dict[str, Any] = field(default_factory=dict)
    params_valid: bool = True
    ids_ok: bool = True
    issues: list[Issue] = field(default_factory=list)

    def add(self, code: OmlCode, path: Path, message: str) -> None:
        self.issues.append(self.doc.issue(code, path, message))


def validate(
    text: str,
    *,
    source: str = "<pipeline>",
    connections: Connections | None = None,
    env: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Pipeline:
    """The pipeline ``text`` describes, or :class:`OmlInvalidError` listing every problem."""
    doc, issues = load_document(text)
    if doc is None:
        raise OmlInvalidError(source, issues)
    ctx = _Context(doc, connections or Connections.empty(), env or {}, load_components(), issues=issues)
    pipeline = _pipeline(ctx, text, params or {})
    if ctx.issues or pipeline is None:
        raise OmlInvalidError(source, sorted(ctx.issues, key=lambda i: (i.line or 0, i.path, i.code)))
    return pipeline


def _pipeline(ctx: _Context, text: str, overrides: Mapping[str, Any]) -> Pipeline | None:
    root = ctx.doc.data
    if not isinstance(root, dict):
        ctx.add(OmlCode.NOT_A_MAPPING, (), "an OML document is a mapping with oml_version, name and steps")
        return None
    for key in sorted(root):
        if key in FORBIDDEN_TOP_KEYS:
            ctx.add(OmlCode.FORBIDDEN_KEY, (key,), f"{key!r} is not OML v0.1.0 (forbidden top-level key)")
        elif key not in TOP_KEYS:
            ctx.add(OmlCode.UNKNOWN_KEY, (key,), f"unknown top-level key {key!r}")
    for key in ("oml_version", "name", "steps"):
        if key not in root:
            ctx.add(OmlCode.MISSING_KEY, (key,), f"required key {key!r} is missing")
    version = root.get("oml_version")
    if "oml_version" in root and version != OML_VERSION:
        ctx.add(
            OmlCode.UNSUPPORTED_VERSION,
            ("oml_version",),
            f'oml_version must be the string "{OML_VERSION}", not {version!r}',
        )
    name = root.get("name")
    if "name" in root and (not isinstance(name, str) or NAME.fullmatch(name) is None):
        ctx.add(OmlCode.INVALID_NAME, ("name",), "name must be lower-case letters, digits, '-' or '_'")
    description = root.get("description")
    if description is not None and not isinstance(description, str):
        ctx.add(OmlCode.WRONG_TYPE, ("description",), "description must be a string")
    _params(ctx, root.get("params"), overrides)
    raw_steps = root.get("steps")
    if "steps" not in root:
        return None
    if not isinstance(raw_steps, list):
        ctx.add(OmlCode.WRONG_TYPE, ("steps",), "steps must be a list of steps")
        return None
    if not raw_steps:
        ctx.add(OmlCode.EMPTY_STEPS, ("steps",), "steps must not be empty")
        return None
    steps = _steps(ctx, raw_steps)
    if ctx.issues:
        return None
    return Pipeline(str(name), description, dict(ctx.params), steps, text)


def _params(ctx: _Context, raw: Any, overrides: Mapping[str, Any]) -> None:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        ctx.add(OmlCode.WRONG_TYPE, ("params",), "params must map names to default values")
        ctx.params_valid = False
        return
    for key, value in raw.items():
        if not isinstance(value, str | int | float | bool) or value is None:
            ctx.add(
                OmlCode.WRONG_TYPE, ("params", key), f"parameter {key} must be a string, number or boolean"
            )
    ctx.params = dict(raw)
    for key, value in overrides.items():
        if key not in ctx.params:
            ctx.add(
                OmlCode.UNKNOWN_PARAM, ("params",), f"parameter {key} is given but not declared in params"
            )
            continue
        default = ctx.params[key]
        ctx.params[key] = _coerce(value, default)


def _coerce(value: Any, default: Any) -> Any:
    if not isinstance(value, str) or isinstance(default, str):
        return value
    if isinstance(default, bool):
        return value.lower() in {"1", "true", "yes", "on"}
    try:
        return int(value) if isinstance(default, int) else float(value)
    except ValueError:
        return value


def _substitute(ctx: _Context, value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(ctx, v, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(ctx, v, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${params." not in value or not ctx.params_valid:
        return value
    for name in PARAM_REF.findall(value):
        if name not in ctx.params:
            ctx.add(OmlCode.UNKNOWN_PARAM, path, f"${{params.{name}}} names no declared parameter")
            return value
    whole = PARAM_REF.fullmatch(value)
    if whole is not None:
        return ctx.params[whole.group(1)]
    return PARAM_REF.sub(lambda m: str(ctx.params[m.group(1)]), value)


def _steps(ctx: _Context, raw_steps: list[Any]) -> tuple[Step, ...]:
    ids: dict[str, int] = {}
    # References are checked only once every step's identity is clear, so one bad id is one problem.
    ctx.ids_ok = True
    for i, raw in enumerate(raw_steps):
        sid = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(sid, str) or STEP_ID.fullmatch(sid) is None:
            ctx.ids_ok = False
        else:
            if sid in ids:
                ctx.ids_ok = False
                ctx.add(
                    OmlCode.DUPLICATE_STEP_ID,
                    ("steps", i, "id"),
                    f"step id {sid!r} is already used by steps[{ids[sid]}]",
                )
            else:
                ids[sid] = i
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        step = _step(ctx, i, raw, ids)
        if step is not None:
            steps.append(step)
    if ctx.issues:
        return ()
    return _ordered(ctx, steps, ids)


def _step(ctx: _Context, i: int, raw: Any, ids: Mapping[str, int]) -> Step | None:
    at: Path = ("steps", i)
    if not isinstance(raw, dict):
        ctx.add(OmlCode.NOT_A_MAPPING, at, "a step is a mapping with id, component, mode and config")
        return None
    before = len(ctx.issues)
    for key in sorted(raw):
        if key not in STEP_KEYS:
            ctx.add(OmlCode.UNKNOWN_KEY, (*at, key), f"unknown step key {key!r}")
    for key in ("id", "component", "mode", "config"):
        if key not in raw:
            ctx.add(OmlCode.MISSING_KEY, (*at, key), f"step key {key!r} is missing")
    sid = raw.get("id")
    if "id" in raw and (not isinstance(sid, str) or STEP_ID.fullmatch(sid) is None):
        ctx.add(
            OmlCode.INVALID_NAME,
            (*at, "id"),
            "a step id is letters, digits, '_' or '-', starting with a letter",
        )
    spec = None
    component = raw.get("component")
    if "component" in raw:
        spec = ctx.components.get(component) if isinstance(component, str) else None
        if spec is None:
            known = ", ".join(sorted(ctx.components))
            ctx.add(
                OmlCode.UNKNOWN_COMPONENT,
                (*at, "component"),
                f"unknown component {component!r} (known: {known})",
            )
    mode = raw.get("mode")
    if "mode" in raw:
        if mode not in MODES:
            ctx.add(
                OmlCode.INVALID_MODE, (*at, "mode"), f"mode must be read, transform or write, not {mode!r}"
            )
        elif spec is not None and mode not in spec.modes:
            ctx.add(
                OmlCode.MODE_MISMATCH,
                (*at, "mode"),
                f"component {spec.name} supports mode {', '.join(spec.modes)}, not {mode}",
            )
    upstream = _upstream(ctx, at, raw, ids, sid if isinstance(sid, str) else None)
    config = raw.get("config")
    if "config" in raw and not isinstance(config, dict):
        ctx.add(OmlCode.WRONG_TYPE, (*at, "config"), "config must be a mapping")
        config = None
    if len(ctx.issues) > before or spec is None or not isinstance(config, dict):
        return None
    if spec.inputs == 0 and upstream is not None:
        ctx.add(
            OmlCode.UNEXPECTED_INPUT,
            (*at, "needs" if "needs" in raw else "inputs"),
            f"a {mode} step takes no input",
        )
    if spec.inputs > 0 and upstream is None and ctx.ids_ok:
        ctx.add(
            OmlCode.MISSING_INPUT,
            at,
            f'a {mode} step needs an input: needs: [STEP] or inputs: {{records: "${{STEP.output.records}}"}}',
        )
    config = _substitute(ctx, config, (*at, "config"))
    if len(ctx.issues) > before or (not ctx.params_valid and "${params." in repr(config)):
        return None
    _check_config(ctx, spec, config, (*at, "config"))
    connection = None
    if spec.family is not None and len(ctx.issues) == before:
        connection, problems = resolve(
            spec.family,
            config.get("connection"),
            ctx.connections,
            ctx.env,
            ctx.doc,
            (*at, "config", "connection"),
        )
        ctx.issues.extend(problems)
    if len(ctx.issues) > before:
        return None
    body = {k: v for k, v in config.items() if k != "connection"}
    return Step(str(sid), spec.name, str(mode), body, upstream, connection, ctx.doc.line(at), i)


def _upstream(
    ctx: _Context, at: Path, raw: Mapping[str, Any], ids: Mapping[str, int], sid: str | None
) -> str | None:
    found: list[tuple[str, Path]] = []
    needs = raw.get("needs")
    if "needs" in raw:
        if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
            ctx.add(OmlCode.WRONG_TYPE, (*at, "needs"), "needs must be a list of step ids")
        else:
            found.extend((n, (*at, "needs", j)) for j, n in enumerate(needs))
    inputs = raw.get("inputs")
    if "inputs" in raw:
        if not isinstance(inputs, dict):
            ctx.add(OmlCode.WRONG_TYPE, (*at, "inputs"), "inputs must map names to ${step.output.name}")
        else:
            for name, ref in inputs.items():
                match = INPUT_REF.fullmatch(ref) if isinstance(ref, str) else None
                if match is None:
                    ctx.add(
                        OmlCode.BAD_INPUT_REFERENCE,
                        (*at, "inputs", name),
                        f"input {name} must be a reference like ${{step.output.records}}, not {ref!r}",
                    )
                    continue
                target, output = match.group(1), match.group(2)
                found.append((target, (*at, "inputs", name)))
                spec = _component_of(ctx, target, ids)
                if spec is not None and ctx.ids_ok and output not in spec.outputs:
                    offers = ", ".join(spec.outputs) or "nothing"
                    ctx.add(
                        OmlCode.BAD_INPUT_REFERENCE,
                        (*at, "inputs", name),
                        f"step {target} ({spec.name}) has no output {output!r} (it offers {offers})",
                    )
    distinct: list[str] = []
    if not ctx.ids_ok:
        return None
    for target, path in found:
        if target == sid:
            ctx.add(OmlCode.SELF_REFERENCE, path, f"step {sid} cannot take its own output")
        elif target not in ids:
            ctx.add(OmlCode.UNKNOWN_STEP_REFERENCE, path, f"no step has id {target!r}")
        elif target not in distinct:
            distinct.append(target)
    if len(distinct) > 1:
        ctx.add(
            OmlCode.UNEXPECTED_INPUT,
            at,
            f"a step takes one input stream; this one names {', '.join(distinct)}",
        )
    return distinct[0] if len(distinct) == 1 else None


def _component_of(ctx: _Context, step_id: str, ids: Mapping[str, int]) -> ComponentSpec | None:
    if step_id not in ids:
        return None
    raw = ctx.doc.data["steps"][ids[step_id]]
    component = raw.get("component") if isinstance(raw, dict) else None
    return ctx.components.get(component) if isinstance(component, str) else None


def _check_config(ctx: _Context, spec: ComponentSpec, config: Mapping[str, Any], at: Path) -> None:
    errors = sorted(
        spec.validator.iter_errors(config), key=lambda e: (list(map(str, e.absolute_path)), e.message)
    )
    for error in errors:
        path = (*at, *error.absolute_path)
        ctx.add(OmlCode.CONFIG_INVALID, path, f"{spec.name}: {_schema_message(error)}")
    if errors:
        return
    expressions: list[tuple[Path, str]] = []
    if spec.name == "transform.filter":
        expressions.append(((*at, "where"), config["where"]))
    elif spec.name == "transform.sql":
        expressions.extend(((*at, "select", k), v) for k, v in config["select"].items())
    for path, expr in expressions:
        try:
            columns_read([expr])
        except ExpressionError as exc:
            ctx.add(OmlCode.INVALID_EXPRESSION, path, str(exc))
    if spec.name == "quality.expectations":
        for j, item in enumerate(config["expectations"]):
            if item["expect"] == "regex":
                try:
                    re.compile(item["pattern"])
                except re.error as exc:
                    ctx.add(
                        OmlCode.INVALID_PATTERN,
                        (*at, "expectations", j, "pattern"),
                        f"not a valid regular expression: {exc}",
                    )
            elif item["expect"] == "matches_schema":
                try:
                    Draft202012Validator.check_schema(item["schema"])
                except SchemaError as exc:
                    ctx.add(
                        OmlCode.CONFIG_INVALID,
                        (*at, "expectations", j, "schema"),
                        f"not a valid JSON Schema: {exc.message}",
                    )


def _schema_message(error: Any) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            return f"unknown key {extra[0]!r}"
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required")
    return str(error.message)


def _ordered(ctx: _Context, steps: list[Step], ids: Mapping[str, int]) -> tuple[Step, ...]:
    by_id = {s.id: s for s in steps}
    placed: list[Step] = []
    done: set[str] = set()
    pending = list(steps)
    while pending:
        ready = [s for s in pending if s.upstream is None or s.upstream in done]
        if not ready:
            first = min(pending, key=lambda s: ids[s.id])
            cycle = [first.id]
            cursor = by_id.get(first.upstream or "")
            while cursor is not None and cursor.id not in cycle:
                cycle.append(cursor.id)
                cursor = by_id.get(cursor.upstream or "")
            ctx.add(OmlCode.CYCLE, ("steps", ids[first.id]), f"steps form a cycle: {' -> '.join(cycle)}")
            return ()
        for s in ready:
            placed.append(s)
            done.add(s.id)
            pending.remove(s)
    return tuple(placed)


__all__ = ["MODES", "OML_VERSION", "Pipeline", "Step", "validate"]
