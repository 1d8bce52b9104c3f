"""``spine schema``: publish, validate, diff, lint and roll back schemas.

``publish``, ``validate``, ``rollback``, ``list`` and ``show`` talk to the registry; ``lint`` and ``diff`` of
two files run locally with the registry's own rules, so a CI job can run them before any server exists.
Exit codes: 0 accepted, 1 rejected (incompatible, lint error, semver understated), 2 usage or
configuration error, 3 registry unreachable. Commands that parse a schema file need the ``registry`` extra,
imported inside them so that ``list``, ``show`` and ``rollback`` run on a base install.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import typer
import yaml
from rich.markup import escape

from cli.common import console, err_console, fail, handle_errors, needs_extra, print_json, print_table
from cli.service import ServiceClient, ServiceRefusedError, default_token, default_url
from registry.errors import RegistryError
from spine.errors import ExitCode
from spine.registry_codes import SchemaErrorCode

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from registry.diff import SchemaChange
    from registry.lint import LintConfig, LintFinding
    from registry.schemas import ParsedSchema, SchemaType
    from registry.semver import ChangeClass

app = typer.Typer(help="Publish, validate, diff, lint and roll back schemas.", no_args_is_help=True)

REFUSAL_CODES = frozenset(
    {SchemaErrorCode.INCOMPATIBLE_SCHEMA, SchemaErrorCode.LINT_REFUSED, SchemaErrorCode.SEMVER_REFUSED}
)
SUFFIX_TYPES = {".avsc": "AVRO", ".proto": "PROTOBUF", ".json": "JSON"}
CHANGE_ORDER = ["PATCH", "MINOR", "MAJOR"]

URL = typer.Option(None, "--url", help="Registry URL (default $SPINE_REGISTRY_URL or the embedded spine).")
TOKEN = typer.Option(None, "--token", help="Bearer token (default $SPINE_TOKEN or the embedded admin token).")
JSON = typer.Option(False, "--json", help="Print JSON for machines.")
SUBJECT = typer.Option(..., "--subject", "-s", help="Subject, e.g. sales.orders-value.")
TYPE = typer.Option(None, "--type", "-t", help="avro, protobuf or json (default: from the file suffix).")


def _client(url: str | None, token: str | None) -> ServiceClient:
    return ServiceClient(
        "registry",
        url.rstrip("/") if url else default_url("registry", "SPINE_REGISTRY_URL"),
        token if token is not None else default_token(),
        refusal_codes=REFUSAL_CODES,
    )


def _schema_type(path: Path, type_name: str | None) -> SchemaType:
    from registry.schemas import SchemaType

    if type_name is not None:
        try:
            return SchemaType(type_name.upper())
        except ValueError:
            fail(f"--type: unknown schema type {type_name!r}; use avro, protobuf or json", ExitCode.USAGE)
    found = SUFFIX_TYPES.get(path.suffix.lower())
    if found is None:
        fail(f"{path}: cannot tell the schema type from the suffix; pass --type", ExitCode.USAGE)
    return SchemaType(found)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {exc.strerror if isinstance(exc, OSError) else exc}", ExitCode.USAGE)


def _parse(path: Path, type_name: str | None) -> ParsedSchema:
    from registry.schemas import parse_schema

    schema_type = _schema_type(path, type_name)
    try:
        return parse_schema(schema_type, _read(path))
    except RegistryError as exc:
        fail(f"{path}: {exc}", ExitCode.USAGE)


def _refused(exc: ServiceRefusedError, as_json: bool) -> None:
    """Print a refusal (one line per problem, with its path) and exit with its code."""
    if as_json:
        print_json(exc.body)
    elif exc.exit_code is not ExitCode.REFUSED:
        fail(str(exc), exc.exit_code)
    else:
        err_console.print(
            f"[bold red]rejected:[/] {escape(str(exc.body.get('message', exc)))}", soft_wrap=True
        )
        for problem in exc.body.get("problems", []):
            err_console.print(
                f"  {escape(str(problem.get('path', '')))}: {escape(str(problem.get('message', '')))}",
                soft_wrap=True,
                highlight=False,
            )
    raise SystemExit(int(exc.exit_code))


def _submit(
    client: ServiceClient, subject: str, parsed: ParsedSchema, version: str | None, *, dry_run: bool
) -> dict[str, Any]:
    body = {
        "schema": parsed.raw,
        "schemaType": parsed.schema_type.value,
        "version": version,
        "dryRun": dry_run,
    }
    result: dict[str, Any] = client.request("POST", f"/schemas/{quote(subject, safe='')}", json=body)
    return result


def _print_outcome(verb: str, result: dict[str, Any]) -> None:
    rows = [
        ("subject", result.get("subject")),
        ("version", result.get("version")),
        ("semver", result.get("semver")),
        ("change", result.get("change")),
        ("schema id", result.get("id")),
        ("topic", result.get("topic")),
    ]
    print_table(verb, ["", ""], rows)
    if result.get("notice"):
        console.print(f"[bold]{escape(str(result['notice']))}[/]", highlight=False)
    for reason in result.get("reasons", []):
        console.print(f"  {escape(str(reason))}", highlight=False)
    for finding in result.get("lint", []):
        console.print(
            f"  [yellow]{escape(str(finding.get('severity')))}[/] {escape(str(finding.get('path')))}: "
            f"{escape(str(finding.get('message')))} ({escape(str(finding.get('rule')))})",
            highlight=False,
        )


def _publish_or_validate(
    file: Path,
    subject: str,
    type_name: str | None,
    version: str | None,
    url: str | None,
    token: str | None,
    as_json: bool,
    *,
    dry_run: bool,
) -> None:
    parsed = _parse(file, type_name)
    try:
        result = _submit(_client(url, token), subject, parsed, version, dry_run=dry_run)
    except ServiceRefusedError as exc:
        _refused(exc, as_json)
    if as_json:
        print_json(result)
    else:
        _print_outcome("would publish" if dry_run else "published", result)


@app.command("publish")
@handle_errors
@needs_extra("registry", "schema publish")
def publish(
    file: Path = typer.Argument(..., help="Schema file (.avsc, .proto or .json)."),
    subject: str = SUBJECT,
    type_name: str | None = TYPE,
    version: str | None = typer.Option(None, "--version", "-v", help="Declared semantic version X.Y.Z."),
    url: str | None = URL,
    token: str | None = TOKEN,
    as_json: bool = JSON,
) -> None:
    """Register FILE under SUBJECT after compatibility, lint and semver checks."""
    _publish_or_validate(file, subject, type_name, version, url, token, as_json, dry_run=False)


@app.command("validate")
@handle_errors
@needs_extra("registry", "schema validate")
def validate(
    file: Path = typer.Argument(..., help="Schema file (.avsc, .proto or .json)."),
    subject: str = SUBJECT,
    type_name: str | None = TYPE,
    version: str | None = typer.Option(None, "--version", "-v", help="Declared semantic version X.Y.Z."),
    url: str | None = URL,
    token: str | None = TOKEN,
    as_json: bool = JSON,
) -> None:
    """Run every check publish runs (compatibility, lint, semver) without registering anything."""
    _publish_or_validate(file, subject, type_name, version, url, token, as_json, dry_run=True)


def _load_lint_config(path: Path | None) -> LintConfig:
    from registry.lint import LintConfig

    if path is None:
        return LintConfig.default()
    try:
        data = yaml.safe_load(_read(path)) or {}
    except yaml.YAMLError as exc:
        fail(f"{path}: not valid YAML: {exc}".splitlines()[0], ExitCode.USAGE)
    rules = data.get("rules", data) if isinstance(data, dict) else None
    if not isinstance(rules, dict):
        fail(f"{path}: expected a mapping of rule name to severity", ExitCode.USAGE)
    try:
        return LintConfig.default().merged(LintConfig.from_mapping(rules))
    except RegistryError as exc:
        fail(f"{path}: {exc}", ExitCode.USAGE)


def _finding_dict(finding: LintFinding) -> dict[str, str]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "path": finding.path,
        "message": finding.message,
    }


@app.command("lint")
@handle_errors
@needs_extra("registry", "schema lint")
def lint(
    file: Path = typer.Argument(..., help="Schema file (.avsc, .proto or .json)."),
    type_name: str | None = TYPE,
    config: Path | None = typer.Option(None, "--config", help="YAML: rule name -> error|warn|off."),
    as_json: bool = JSON,
) -> None:
    """Check FILE against the naming, documentation and tagging rules; exit 1 on any error finding."""
    from registry.lint import Severity, lint_schema

    parsed = _parse(file, type_name)
    findings = lint_schema(parsed, _load_lint_config(config))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if as_json:
        print_json({"file": str(file), "findings": [_finding_dict(f) for f in findings], "ok": not errors})
    elif findings:
        rows = [(f.severity.value, f.rule, f.path, f.message) for f in findings]
        print_table(
            f"{file}: {len(errors)} error(s), {len(findings) - len(errors)} warning(s)",
            ["severity", "rule", "path", "message"],
            rows,
        )
    else:
        console.print(f"{escape(str(file))}: no findings")
    if errors:
        raise SystemExit(int(ExitCode.REFUSED))


def _fetch_version(client: ServiceClient, subject: str, version: str) -> dict[str, Any]:
    result: dict[str, Any] = client.request(
        "GET", f"/subjects/{quote(subject, safe='')}/versions/{quote(version, safe='')}"
    )
    return result


def _overall(changes: list[SchemaChange]) -> ChangeClass | None:
    if not changes:
        return None
    return max((c.change for c in changes), key=lambda change: CHANGE_ORDER.index(change.value))


@app.command("diff")
@handle_errors
@needs_extra("registry", "schema diff")
def diff(
    old: Path = typer.Argument(..., help="The old schema file, or the new one when --subject is given."),
    new: Path | None = typer.Argument(None, help="The new schema file."),
    subject: str | None = typer.Option(None, "--subject", "-s", help="Compare FILE with this subject."),
    against: str = typer.Option("latest", "--against", help="Registered version to compare with."),
    type_name: str | None = TYPE,
    url: str | None = URL,
    token: str | None = TOKEN,
    as_json: bool = JSON,
) -> None:
    """Show each change between two schemas with its class (PATCH, MINOR, MAJOR)."""
    from registry.diff import diff_schemas
    from registry.schemas import parse_schema

    if new is None and subject is None:
        fail("diff needs two files, or one file and --subject", ExitCode.USAGE)
    if new is not None:
        before, after = _parse(old, type_name), _parse(new, type_name)
    else:
        assert subject is not None
        after = _parse(old, type_name)
        registered = _fetch_version(_client(url, token), subject, against)
        try:
            before = parse_schema(registered.get("schemaType", "AVRO"), registered["schema"])
        except RegistryError as exc:
            fail(f"{subject} version {against}: {exc}", ExitCode.USAGE)
    changes = diff_schemas(before, after)
    overall = _overall(changes)
    if as_json:
        print_json(
            {
                "change": overall.value if overall else None,
                "changes": [
                    {"path": c.path, "description": c.description, "change": c.change.value} for c in changes
                ],
            }
        )
        return
    if not changes:
        console.print("no changes")
        return
    print_table(
        f"{len(changes)} change(s), overall {overall.value if overall else '-'}",
        ["change", "path", "description"],
        [(c.change.value, c.path, c.description) for c in changes],
    )


@app.command("rollback")
@handle_errors
def rollback(
    subject: str = SUBJECT,
    to: int = typer.Option(..., "--to", help="The version whose schema becomes the new latest."),
    url: str | None = URL,
    token: str | None = TOKEN,
    as_json: bool = JSON,
) -> None:
    """Re-register version TO of SUBJECT as its new latest version."""
    try:
        result = _client(url, token).request(
            "POST", f"/schemas/{quote(subject, safe='')}/rollback", json={"to": to}
        )
    except ServiceRefusedError as exc:
        _refused(exc, as_json)
    if as_json:
        print_json(result)
    else:
        _print_outcome(f"rolled back to version {to}", result)


@app.command("list")
@handle_errors
def list_subjects(url: str | None = URL, token: str | None = TOKEN, as_json: bool = JSON) -> None:
    """List subjects with their latest version, semantic version and type."""
    client = _client(url, token)
    subjects: list[str] = client.request("GET", "/subjects")
    latest = [client.request("GET", f"/schemas/{quote(s, safe='')}") for s in sorted(subjects)]
    if as_json:
        print_json(latest)
        return
    rows = [
        (
            item.get("subject"),
            item.get("version"),
            item.get("semver"),
            item.get("schemaType", "AVRO"),
            item.get("id"),
            "yes" if item.get("deprecated") else "",
        )
        for item in latest
    ]
    print_table(f"{len(rows)} subject(s)", ["subject", "version", "semver", "type", "id", "deprecated"], rows)


def _describe_version(client: ServiceClient, subject: str, version: str) -> dict[str, Any]:
    """The spine's view of one version: the latest comes whole; an older one is assembled from three calls."""
    path = f"/schemas/{quote(subject, safe='')}"
    if version == "latest":
        latest: dict[str, Any] = client.request("GET", path)
        return latest
    item = _fetch_version(client, subject, version)
    listed = {v["version"]: v for v in client.request("GET", f"{path}/versions")}
    item.update({k: v for k, v in listed.get(item["version"], {}).items() if k in ("semver", "deprecated")})
    item["tags"] = client.request("GET", f"{path}/versions/{item['version']}/tags")["fields"]
    return item


@app.command("show")
@handle_errors
def show(
    subject: str = typer.Argument(..., help="Subject to show."),
    version: str = typer.Option("latest", "--version", "-v", help="Registry version number or latest."),
    url: str | None = URL,
    token: str | None = TOKEN,
    as_json: bool = JSON,
) -> None:
    """Show one version of SUBJECT: its schema, semantic version and tagged fields."""
    item = _describe_version(_client(url, token), subject, version)
    if as_json:
        print_json(item)
        return
    print_table(
        f"{subject} version {item.get('version')}",
        ["", ""],
        [
            ("semver", item.get("semver")),
            ("type", item.get("schemaType", "AVRO")),
            ("schema id", item.get("id")),
            ("deprecated", "yes" if item.get("deprecated") else "no"),
        ],
    )
    tags = item.get("tags") or []
    if tags:
        print_table(
            "tagged fields", ["field", "tags"], [(t.get("path"), ", ".join(t.get("tags", []))) for t in tags]
        )
    text = item.get("schema", "")
    with contextlib.suppress(TypeError, ValueError):
        text = json.dumps(json.loads(text), indent=2)
    console.print(escape(str(text)), highlight=False)


__all__ = ["app"]


def _progress(entries: list[Any], what: str) -> tuple[Progress, TaskID]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn(what), BarColumn(), MofNCompleteColumn(), console=err_console, transient=True
    )
    return progress, progress.add_task(what, total=len(entries))


@app.command("export")
@handle_errors
def export_schemas(
    file: Path = typer.Argument(..., help="JSON file to write every subject version to."),
    url: str | None = URL,
    token: str | None = TOKEN,
) -> None:
    """Write every live subject version of a registry (id, version, schema, references) to FILE."""
    from cli.schema_transfer import read_registry, write_dump

    entries = read_registry(_client(url, token))
    write_dump(entries, file)
    console.print(
        f"exported {len(entries)} version(s) of {len({e.subject for e in entries})} subject(s) to {file}"
    )


@app.command("import")
@handle_errors
def import_schemas(
    file: Path | None = typer.Argument(None, help="A dump written by `spine schema export`."),
    source: str | None = typer.Option(
        None, "--from", help="URL of a Confluent-compatible registry to copy from instead of a file."
    ),
    source_token: str | None = typer.Option(None, "--from-token", help="Bearer token for --from."),
    url: str | None = URL,
    token: str | None = TOKEN,
    as_json: bool = JSON,
) -> None:
    """Copy every subject, version and id into the registry, keeping ids and versions (IMPORT mode).

    A version already present with the same id is left alone, so a re-run copies nothing new.
    """
    from cli.schema_transfer import import_entries, read_dump, read_registry

    if (file is None) == (source is None):
        fail("import: give either a dump FILE or --from URL", ExitCode.USAGE)
    if file is not None:
        entries = read_dump(file)
    else:
        assert source is not None
        entries = read_registry(ServiceClient("source registry", source.rstrip("/"), source_token))
    target = _client(url, token)
    progress, task = _progress(entries, "importing")
    try:
        with progress:
            count = import_entries(target, entries, lambda entry: progress.advance(task))
    except ServiceRefusedError as exc:
        _refused(exc, as_json)
    if as_json:
        print_json({"copied": count.copied, "present": count.present})
    else:
        console.print(f"imported {count.copied} version(s); {count.present} already present")
