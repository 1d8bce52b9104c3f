"""``spine pipeline``: validate, compile and plan OML pipelines; list the components.

``validate`` and ``components`` are pure. ``compile`` and ``plan`` need the registry and the residency
gate: the running ones (URLs from the source's kafka connection fields ``registry_url``/``gate_url``/
``token``, else the usual defaults), or with ``--matrix FILE --schema SUBJECT=FILE`` a matrix and schema
files in process. Needs the ``oml`` extra; its modules are imported inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from cli.common import console, err_console, handle_errors, needs_extra, print_json, print_table
from spine.errors import ExitCode

if TYPE_CHECKING:
    from oml.compile import Compiled
    from oml.context import CompileContext
    from oml.errors import Issue
    from oml.validate import Pipeline

app = typer.Typer(help="OML pipelines: validate, compile, plan, run.", no_args_is_help=True)

JSON_HELP = "Print JSON instead of a table."
CONNECTIONS_HELP = "Connections file (default: connections.yaml beside the pipeline)."
PARAM_HELP = "Pipeline parameter NAME=VALUE (repeatable)."
MATRIX_HELP = "Residency matrix file: decide routes in process instead of asking the gate."
SCHEMA_HELP = "With --matrix: SUBJECT=SCHEMA_FILE for each subject the pipeline reads or writes."


def _issues_out(source: str, issues: tuple[Issue, ...], as_json: bool, code: ExitCode, key: str) -> None:
    if as_json:
        print_json({key: False, "file": source, "issues": [i.to_dict() for i in issues]})
    else:
        for issue in issues:
            err_console.print(
                f"[bold red]error:[/] {escape(issue.render(source))}", highlight=False, soft_wrap=True
            )
    raise SystemExit(int(code))


def _load(file: Path, connections: Path | None, params: list[str] | None, as_json: bool) -> Pipeline:
    from oml.errors import OmlInvalidError
    from oml.files import load_pipeline, parse_params

    try:
        return load_pipeline(file, connections=connections, params=parse_params(params or []))
    except OmlInvalidError as exc:
        _issues_out(exc.source, exc.issues, as_json, ExitCode.USAGE, "valid")
        raise


def _context(pipeline: Pipeline, matrix: Path | None, schemas: list[str] | None) -> CompileContext:
    from oml.context import LiveContext
    from oml.files import static_context

    if matrix is not None:
        return static_context(matrix, schemas or [])
    from cli.service import default_token, default_url
    from residency_gate.client import GateClient
    from spine.registry_client import RegistryClient

    fields: dict[str, Any] = {}
    for step in pipeline.steps:
        if step.connection is not None and step.connection.family == "kafka":
            import os

            fields = step.connection.values(os.environ)
            break
    token = fields.get("token") or default_token()
    gate = GateClient(fields.get("gate_url") or default_url("residency-gate", "SPINE_RESIDENCY_URL"), token)
    registry = RegistryClient(
        fields.get("registry_url") or default_url("registry", "SPINE_REGISTRY_URL"), token
    )
    return LiveContext(gate, registry)


def compile_file(
    file: Path,
    connections: Path | None,
    params: list[str] | None,
    matrix: Path | None,
    schemas: list[str] | None,
    as_json: bool,
) -> tuple[Pipeline, Compiled]:
    from oml.compile import compile_pipeline
    from oml.errors import OmlInvalidError, RouteDeniedError

    pipeline = _load(file, connections, params, as_json)
    try:
        return pipeline, compile_pipeline(pipeline, _context(pipeline, matrix, schemas), source=str(file))
    except RouteDeniedError as exc:
        _issues_out(exc.source, exc.issues, as_json, ExitCode.REFUSED, "compiled")
        raise
    except OmlInvalidError as exc:
        _issues_out(exc.source, exc.issues, as_json, ExitCode.USAGE, "compiled")
        raise


@app.command("validate")
@handle_errors
@needs_extra("oml", "pipeline validate")
def validate_cmd(
    file: Path = typer.Argument(..., help="OML pipeline (YAML)."),
    connections: Path | None = typer.Option(None, "--connections", help=CONNECTIONS_HELP),
    param: list[str] | None = typer.Option(None, "--param", help=PARAM_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check a pipeline against OML v0.1.0 and its components' schemas; exit 2 listing every problem."""
    pipeline = _load(file, connections, param, as_json)
    if as_json:
        steps = [
            {"id": s.id, "component": s.component, "mode": s.mode, "upstream": s.upstream}
            for s in pipeline.steps
        ]
        print_json({"valid": True, "file": str(file), "name": pipeline.name, "steps": steps})
        return
    console.print(
        f"{escape(str(file))}: valid OML 0.1.0, pipeline {pipeline.name}, {len(pipeline.steps)} steps"
    )


@app.command("compile")
@handle_errors
@needs_extra("oml", "pipeline compile")
def compile_cmd(
    file: Path = typer.Argument(..., help="OML pipeline (YAML)."),
    out: Path | None = typer.Option(
        None, "--out", help="Write manifest.json here (default: compiled/NAME/)."
    ),
    connections: Path | None = typer.Option(None, "--connections", help=CONNECTIONS_HELP),
    param: list[str] | None = typer.Option(None, "--param", help=PARAM_HELP),
    matrix: Path | None = typer.Option(None, "--matrix", help=MATRIX_HELP),
    schema: list[str] | None = typer.Option(None, "--schema", help=SCHEMA_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Compile a pipeline into a deterministic manifest (exit 1 when the gate denies a route)."""
    pipeline, compiled = compile_file(file, connections, param, matrix, schema, as_json)
    target = (out or _home() / "compiled" / pipeline.name) / "manifest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(compiled.text, encoding="utf-8")
    summary = {"compiled": True, "manifest": str(target), "fingerprints": compiled.manifest["fingerprints"]}
    if as_json:
        print_json(summary)
        return
    console.print(f"{escape(str(file))}: compiled to {escape(str(target))}")
    console.print(f"manifest sha256 {compiled.fingerprint}")


@app.command("plan")
@handle_errors
@needs_extra("oml", "pipeline plan")
def plan_cmd(
    file: Path = typer.Argument(..., help="OML pipeline (YAML)."),
    connections: Path | None = typer.Option(None, "--connections", help=CONNECTIONS_HELP),
    param: list[str] | None = typer.Option(None, "--param", help=PARAM_HELP),
    matrix: Path | None = typer.Option(None, "--matrix", help=MATRIX_HELP),
    schema: list[str] | None = typer.Option(None, "--schema", help=SCHEMA_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show what a pipeline reads and writes and the residency decision of each of its routes."""
    _, compiled = compile_file(file, connections, param, matrix, schema, as_json)
    plan = compiled.plan
    if as_json:
        print_json(json.loads(json.dumps(plan)))
        return
    rows = [(t["step"], "read", t["topic"], f"{t['subject']} v{t['version']}") for t in plan["topics_read"]]
    rows += [
        (t["step"], "write", t["topic"], f"{t['subject']} v{t['version']}") for t in plan["topics_written"]
    ]
    for s in plan["sinks"]:
        if s["kind"] == "sql":
            rows.append((s["step"], "upsert", f"table {s['table']} key {','.join(s['key'])}", s["sink"]))
    rows += [("", "dlq", topic, "") for topic in plan["dlq_topics"]]
    print_table(f"{file}: data", ("step", "does", "where", "schema / sink"), rows)
    routes = []
    for r in plan["routes"]:
        to = f"sink {r['sink']}" if r["sink"] else f"region {r['destination_region']}"
        redacted = ", ".join(f"{x['field']} {x['action']}" for x in r["decision"]["redactions"])
        routes.append((r["source_step"], r["target_step"] or "(read)", f"{r['dataset']} -> {to}",
                       r["decision"]["outcome"], redacted))  # fmt: skip
    print_table("residency", ("from", "to step", "route", "decision", "redactions"), routes)


@app.command("components")
@handle_errors
@needs_extra("oml", "pipeline components")
def components_cmd(
    name: str | None = typer.Argument(None, help="Show this component's JSON Schema."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the components (each one a JSON Schema for its step config), or show one's schema."""
    from oml.components import load_components
    from spine.errors import ConfigError

    specs = load_components()
    if name is not None:
        if name not in specs:
            raise ConfigError(f"component {name}: unknown (known: {', '.join(sorted(specs))})")
        print_json(specs[name].schema)
        return
    if as_json:
        keys = ("name", "title", "modes", "family", "description", "fingerprint")
        print_json([{k: getattr(s, k) for k in keys} for s in specs.values()])
        return
    rows = [(s.name, ", ".join(s.modes), s.family or "", s.description) for s in specs.values()]
    print_table("OML components", ("component", "modes", "connection", "what it does"), rows)


__all__ = ["app"]


def _services(pipeline: Pipeline) -> Any:
    import os

    from cli.service import default_bootstrap, default_token, default_url
    from oml.runtime.runner import Services
    from residency_gate.client import GateClient
    from spine.registry_client import RegistryClient
    from spine.settings import KafkaSettings, load_settings

    fields: dict[str, Any] = {}
    for step in pipeline.steps:
        if step.connection is not None and step.connection.family == "kafka":
            fields = step.connection.values(os.environ)
            break
    token = fields.get("token") or default_token()
    kafka = load_settings(KafkaSettings, bootstrap=fields.get("bootstrap") or default_bootstrap())
    gate = GateClient(fields.get("gate_url") or default_url("residency-gate", "SPINE_RESIDENCY_URL"), token)
    registry = RegistryClient(
        fields.get("registry_url") or default_url("registry", "SPINE_REGISTRY_URL"), token
    )
    return Services(kafka, registry, gate)


def _home() -> Path:
    from spine.settings import SpineSettings, load_settings

    return load_settings(SpineSettings).home


@app.command("run")
@handle_errors
@needs_extra("oml", "pipeline run")
def run_cmd(
    file: Path = typer.Argument(..., help="OML pipeline (YAML)."),
    connections: Path | None = typer.Option(None, "--connections", help=CONNECTIONS_HELP),
    param: list[str] | None = typer.Option(None, "--param", help=PARAM_HELP),
    max_records: int | None = typer.Option(
        None, "--max-records", min=1, help="Stop after this many records."
    ),
    idle_timeout: float | None = typer.Option(
        None, "--idle-timeout", min=0.1, help="Stop after this many seconds without a record."
    ),
    run_id: str | None = typer.Option(None, "--run-id", help="Name the run (default: time-name-random)."),
    progress: bool = typer.Option(
        True, "--progress/--no-progress", help="Show records/s per step while running."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Compile against the running gate and registry, then run the pipeline as a consumer-group member
    until stopped (SIGTERM/Ctrl-C, ``spine pipeline stop``), --max-records or --idle-timeout."""
    import os
    import signal

    from oml.compile import compile_pipeline
    from oml.context import LiveContext
    from oml.errors import OmlInvalidError, RouteDeniedError
    from oml.runtime.runner import PipelineRunner

    pipeline = _load(file, connections, param, as_json)
    services = _services(pipeline)
    try:
        compiled = compile_pipeline(pipeline, LiveContext(services.gate, services.registry), source=str(file))
    except RouteDeniedError as exc:
        _issues_out(exc.source, exc.issues, as_json, ExitCode.REFUSED, "compiled")
        raise
    except OmlInvalidError as exc:
        _issues_out(exc.source, exc.issues, as_json, ExitCode.USAGE, "compiled")
        raise
    runner = PipelineRunner(pipeline, compiled, services, home=_home(), env=os.environ, run_id=run_id)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: runner.stop())
    if not as_json:
        console.print(f"run {runner.run_id}: {escape(str(runner.log.dir))}")
    show = _progress_display() if progress and not as_json else None
    try:
        summary = runner.run(max_records=max_records, idle_timeout_s=idle_timeout, progress=show)
    finally:
        if show is not None:
            show.close()
    if as_json:
        print_json(summary)
    else:
        console.print(
            f"run {summary['run_id']} {summary['state']}: {summary['read']} read, "
            f"{summary['dead_lettered']} dead-lettered"
        )


class _ProgressDisplay:
    """records/s per step and the DLQ count, redrawn after every batch."""

    def __init__(self) -> None:
        from rich.live import Live

        self._live = Live(console=err_console, refresh_per_second=4, transient=True)
        self._live.start()

    def __call__(self, snapshot: Any) -> None:
        from rich.table import Table

        table = Table(title=f"DLQ {snapshot['dead_lettered']}", title_justify="left")
        for column in ("step", "rows in", "rows out", "records/s"):
            table.add_column(column)
        for step, s in snapshot["steps"].items():
            table.add_row(step, str(s["rows_in"]), str(s["rows_out"]), f"{s['rate']:.0f}")
        self._live.update(table)

    def close(self) -> None:
        self._live.stop()


def _progress_display() -> _ProgressDisplay | None:
    return _ProgressDisplay() if err_console.is_terminal else None


@app.command("stop")
@handle_errors
@needs_extra("oml", "pipeline stop")
def stop_cmd(
    run_id: str = typer.Argument(..., help="Run id (see spine pipeline list), or 'last'."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for the run to finish."),
) -> None:
    """Ask a running pipeline to finish its batch, commit and stop (SIGTERM to its process)."""
    import os
    import signal

    from oml.runlog import find_run, wait_for_status
    from spine.errors import ConfigError

    run = find_run(_home(), run_id)
    if run.status.get("state") not in {"starting", "running"}:
        raise ConfigError(f"run {run.run_id} is not running (state {run.status.get('state')})")
    os.kill(int(run.status["pid"]), signal.SIGTERM)
    status = wait_for_status(run.dir, {"stopped", "completed", "failed"}, timeout)
    if status is None:
        from spine.errors import UnavailableError

        raise UnavailableError(f"run {run.run_id} did not stop within {timeout:.0f}s")
    console.print(f"run {run.run_id} {status['state']}")


@app.command("list")
@handle_errors
@needs_extra("oml", "pipeline list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Pipeline runs under $SPINE_HOME/runs, newest first."""
    from oml.runlog import list_runs

    runs = list_runs(_home())
    if as_json:
        print_json([dict(r.status) for r in runs])
        return
    rows = [(r.run_id, r.status.get("pipeline"), r.status.get("state"), r.status.get("read"),
             r.status.get("dead_lettered"), r.status.get("updated")) for r in runs]  # fmt: skip
    print_table("pipeline runs", ("run", "pipeline", "state", "read", "dlq", "updated"), rows)
