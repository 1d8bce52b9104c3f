"""``spine residency``: Residency policy: test cases, scan for unauthorized sinks.

``test`` and ``check`` are pure (no server); the other commands talk to the gate at ``--url`` (default
``SPINE_RESIDENCY_URL``, else the embedded gate's port) with ``--token`` (default ``SPINE_TOKEN``, else the
``spine up`` admin token in ``$SPINE_HOME/auth/admin.token``). Every command needs the ``residency`` extra;
the gate's modules are imported inside the commands so that a base install still loads the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from cli.common import console, err_console, fail, handle_errors, needs_extra, print_json, print_table
from cli.service import default_bootstrap, default_token, default_url
from residency_gate.errors import RouteError
from residency_gate.scan import find_unlisted, matrix_names
from spine.errors import ExitCode

if TYPE_CHECKING:
    from residency_gate.client import GateApi
    from residency_gate.evaluate import Decision, FieldTag, SchemaVersion
from spine.settings import KafkaSettings, load_settings

app = typer.Typer(help="Residency policy: test cases, scan for unauthorized sinks.", no_args_is_help=True)
policy_app = typer.Typer(help="Show or push the policy in force.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

URL_HELP = "Gate URL (default SPINE_RESIDENCY_URL, else the embedded gate)."
TOKEN_HELP = "Bearer token (default SPINE_TOKEN, else $SPINE_HOME/auth/admin.token)."  # noqa: S105
JSON_HELP = "Print JSON instead of a table."


def gate_url(url: str | None) -> str:
    return url or default_url("residency-gate", "SPINE_RESIDENCY_URL")


def gate_token(token: str | None) -> str | None:
    return token or default_token()


def gate_api(url: str | None, token: str | None) -> GateApi:
    from residency_gate.client import GateApi

    return GateApi(gate_url(url), gate_token(token))


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("test")
@handle_errors
@needs_extra("residency", "residency test")
def run_policy_tests(
    policy: Path = typer.Argument(..., help="Residency matrix (YAML)."),
    cases: Path = typer.Argument(..., help="Table of cases (YAML): route -> expected outcome."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Run table-driven policy cases without a server; exit 1 on any mismatch, 2 on a bad file."""
    from residency_gate.policy import load_policy_file
    from residency_gate.policytest import load_cases, run_cases

    matrix = load_policy_file(policy)
    results = run_cases(matrix, load_cases(cases))
    failed = [r for r in results if not r.passed]
    if as_json:
        print_json(
            {
                "policy": {"version": matrix.version, "hash": matrix.hash},
                "passed": len(results) - len(failed),
                "failed": len(failed),
                "cases": [
                    {
                        "name": r.name,
                        "line": r.line,
                        "expected": r.expected,
                        "actual": r.actual,
                        "passed": r.passed,
                        "expected_redactions": r.expected_redactions,
                        "actual_redactions": list(r.actual_redactions),
                        "reasons": list(r.reasons),
                    }
                    for r in results
                ],
            }
        )
    else:
        rows = [
            (
                "[green]PASS[/]" if r.passed else "[bold red]FAIL[/]",
                r.name,
                r.expected + (f" {list(r.expected_redactions)}" if r.expected_redactions is not None else ""),
                r.actual + (f" {list(r.actual_redactions)}" if r.actual_redactions else ""),
                _short(r.reasons[0] if r.reasons else ""),
            )
            for r in results
        ]
        print_table(
            f"{policy} (version {matrix.version}) against {cases}",
            ("", "case", "expected", "actual", "why"),
            rows,
        )
        console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    for result in [] if as_json else failed:
        where = f"{cases}:{result.line}" if result.line else str(cases)
        message = f"{where}: case '{result.name}' expected {result.expected}, got {result.actual}"
        err_console.print(escape(message), style="red", highlight=False)
    if failed:
        raise SystemExit(int(ExitCode.REFUSED))


@app.command("check")
@handle_errors
@needs_extra("residency", "residency check")
def check(
    policy: Path = typer.Argument(..., help="Residency matrix (YAML)."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Validate a residency matrix; exit 2 with FILE:LINE: problem when it is not valid."""
    from residency_gate.policy import load_policy_file

    matrix = load_policy_file(policy)
    summary = {
        "file": str(policy),
        "version": matrix.version,
        "hash": matrix.hash,
        "regions": len(matrix.regions),
        "classifications": len(matrix.classifications),
        "datasets": len(matrix.datasets),
        "sinks": len(matrix.sinks),
        "rules": len(matrix.rules),
    }
    if as_json:
        print_json({"valid": True, **summary})
        return
    print_table(f"{policy}: valid", ("key", "value"), list(summary.items()))


def _parse_field(text: str) -> FieldTag:
    from residency_gate.evaluate import FieldTag

    name, sep, tags = text.partition(":")
    if not name or not sep:
        fail(f"--field {text!r}: expected NAME:TAG[,TAG...]", ExitCode.USAGE)
    return FieldTag(name, tuple(t for t in tags.split(",") if t))


def _parse_schema_version(text: str) -> SchemaVersion:
    from residency_gate.wire import schema_version_from

    value: object = int(text) if text.isascii() and text.isdigit() else text
    try:
        return schema_version_from(value, "--schema-version")
    except RouteError:
        fail(f"--schema-version {text!r}: expected 'latest' or a version number", ExitCode.USAGE)


def print_decisions(decisions: list[Decision], as_json: bool) -> None:
    from residency_gate.wire import decision_to_dict

    if as_json:
        print_json({"decisions": [decision_to_dict(d) for d in decisions]})
        return
    for decision in decisions:
        colour = "red" if not decision.allowed else ("yellow" if decision.redactions else "green")
        route = decision.route
        target = route.sink or route.destination_region
        console.print(
            f"[bold {colour}]{decision.outcome.value.upper()}[/] {route.dataset} → {target}"
            f"  (decision {decision.decision_id}, policy {decision.policy_version})",
            highlight=False,
        )
        if route.schema is not None:
            console.print(f"  field tags from schema {route.schema}", highlight=False)
        for reason in decision.reasons:
            console.print(f"  • {reason}", highlight=False)
        if decision.redactions:
            print_table(
                None,
                ("field", "action", "tags"),
                [(r.field, r.action, ", ".join(r.tags)) for r in decision.redactions],
            )


@app.command("evaluate")
@handle_errors
@needs_extra("residency", "residency evaluate")
def evaluate_route(
    dataset: str = typer.Option(..., "--dataset", help="Dataset name as in the matrix."),
    to: str | None = typer.Option(None, "--to", help="Destination region."),
    sink: str | None = typer.Option(None, "--sink", help="Destination sink."),
    source: str | None = typer.Option(None, "--from", help="Source region (default: the dataset's home)."),
    purpose: str | None = typer.Option(None, "--purpose", help="Stated purpose."),
    fields: list[str] = typer.Option([], "--field", help="NAME:TAG[,TAG] (repeatable)."),
    subject: str | None = typer.Option(
        None, "--subject", help="Registry subject whose field tags apply (the gate reads them)."
    ),
    schema_version: str | None = typer.Option(
        None, "--schema-version", help="Version of --subject: a number or 'latest' (default)."
    ),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Ask the gate about one route (audited); exit 1 when it is denied.

    With --subject the gate takes field tags from that registry schema version (a dataset the matrix ties
    to a subject always does); --field entries can add tags to a field, never remove the registry's. A
    schema whose tags cannot be read denies the route.
    """
    from residency_gate.evaluate import Route, SchemaRef

    if to is None and sink is None:
        fail("give --to REGION or --sink SINK", ExitCode.USAGE)
    if schema_version is not None and subject is None:
        fail("--schema-version needs --subject", ExitCode.USAGE)
    schema = None
    if subject is not None:
        schema = SchemaRef(subject, _parse_schema_version(schema_version or "latest"))
    route = Route(dataset, to, sink, source, purpose, tuple(_parse_field(f) for f in fields), schema)
    with gate_api(url, token) as api:
        [decision] = api.evaluate([route])
    print_decisions([decision], as_json)
    if not decision.allowed:
        raise SystemExit(int(ExitCode.REFUSED))


@policy_app.command("show")
@handle_errors
@needs_extra("residency", "residency policy show")
def policy_show(
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the policy in force: version, hash, revision, and what it lists."""
    with gate_api(url, token) as api:
        policy = api.policy()
    if as_json:
        print_json(policy)
        return
    document = policy.get("document") or {}
    rows = [
        ("version", policy.get("version")),
        ("hash", policy.get("hash")),
        ("revision", policy.get("revision")),
        ("pushed by", policy.get("created_by")),
        ("pushed at", policy.get("created_at")),
        ("regions", ", ".join(document.get("regions") or [])),
        ("datasets", ", ".join(sorted(document.get("datasets") or {}))),
        ("sinks", ", ".join(sorted(document.get("sinks") or {}))),
        ("rules", len(document.get("rules") or [])),
    ]
    print_table("residency policy in force", ("", ""), rows)


@policy_app.command("history")
@handle_errors
@needs_extra("residency", "residency policy history")
def policy_history(
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List every policy revision the gate has had in force, oldest first."""
    with gate_api(url, token) as api:
        revisions = api.policy_revisions()
    if as_json:
        print_json({"revisions": revisions})
        return
    rows = [
        (
            r["revision"],
            r["version"],
            str(r["hash"])[:16],
            r["created_by"],
            r["created_at"],
            "in force" if r["active"] else "",
        )
        for r in revisions
    ]
    print_table("policy revisions", ("revision", "version", "hash", "pushed by", "pushed at", ""), rows)


@policy_app.command("push")
@handle_errors
@needs_extra("residency", "residency policy push")
def policy_push(
    file: Path = typer.Argument(..., help="Residency matrix (YAML or JSON)."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Validate FILE locally, then make it the policy in force (admin); the old one stays if refused."""
    from residency_gate.policy import load_policy_file

    load_policy_file(file)
    text = file.read_text(encoding="utf-8")
    with gate_api(url, token) as api:
        result = api.push_policy(text, str(file))
    if as_json:
        print_json(result)
        return
    state = "now in force" if result.get("changed") else "already in force (unchanged)"
    console.print(
        f"policy {result['version']} ({str(result['hash'])[:12]}) revision {result['revision']} {state}",
        highlight=False,
    )


def _kafka_settings() -> KafkaSettings:
    """The broker of the running spine (``SPINE_KAFKA_BOOTSTRAP`` first), as ``spine status`` shows it."""
    return load_settings(KafkaSettings).model_copy(update={"bootstrap": default_bootstrap()})


def list_topics(kafka: KafkaSettings) -> set[str]:
    from spine.kafka import Admin

    return Admin(kafka, client_id="spine-residency-scan").list_topics(timeout=10.0)


@app.command("scan")
@handle_errors
@needs_extra("residency", "residency scan")
def scan(
    quarantine: bool = typer.Option(False, "--quarantine", help="Quarantine every finding (admin)."),
    sinks: list[str] = typer.Option([], "--sink", help="A configured sink to check too (repeatable)."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List topics and sinks that carry governed data but are not in the matrix; audit each finding.

    Exit 1 when something unlisted was found and left unquarantined.
    """
    with gate_api(url, token) as api:
        datasets, matrix_sinks = matrix_names(api.policy().get("document") or {})
        topics = list_topics(_kafka_settings())
        findings = find_unlisted(topics, sinks, datasets, matrix_sinks)
        if findings:
            api.record_findings([{"subject": f.subject, "detail": f.detail} for f in findings])
        quarantined: list[str] = []
        if quarantine:
            for finding in findings:
                api.quarantine(finding.subject, finding.detail)
                quarantined.append(finding.subject)
    if as_json:
        print_json(
            {
                "topics_scanned": len(topics),
                "findings": [f.to_dict() for f in findings],
                "quarantined": quarantined,
            }
        )
    elif findings:
        rows = [
            (f.kind, f.subject, "yes" if f.subject in quarantined else "no", _short(f.detail))
            for f in findings
        ]
        print_table("unlisted places carrying governed data", ("kind", "name", "quarantined", "detail"), rows)
    else:
        console.print(f"{len(topics)} topics and {len(sinks)} sinks scanned: everything governed is listed")
    if findings and not quarantine:
        raise SystemExit(int(ExitCode.REFUSED))


@app.command("release")
@handle_errors
@needs_extra("residency", "residency release")
def release(
    sink: str = typer.Argument(..., help="The quarantined sink or topic."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Lift a quarantine (admin); routes to SINK are decided by the matrix again."""
    with gate_api(url, token) as api:
        result = api.release(sink)
    if as_json:
        print_json(result)
    else:
        console.print(f"released {sink}: routes to it are decided by the matrix again", highlight=False)


__all__ = ["app", "gate_api", "gate_token", "gate_url", "print_decisions"]
