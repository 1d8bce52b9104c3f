"""``spine audit``: Review and verify the residency audit log.

``verify`` works over the gate (``--url``) or over exported files (``--file``, ``--checkpoints``,
``--public-key``) and exits 0 only for an intact log, 1 when it was tampered with (naming the first bad
record), 3 when the gate or the broker is unreachable. ``export`` writes the records and, next to them, the
checkpoints and the public key an auditor needs to verify the export offline.

Records after the newest signed checkpoint are an unsigned tail: nothing shows that records were not cut
from the end or rewritten there, so verify exits 1 naming how many, unless ``--allow-unsigned-tail`` (then
it passes with a warning on stderr). Online, verify first asks the gate to sign a checkpoint over the log as
it holds it (the security or admin role, which reading the log needs anyway) and checks exactly that many
records: a running gate then has no unsigned tail, and records that arrive while verify reads are named and
left to the next run rather than failing it. The gate signs from its own running Merkle tree, so a database
rewritten under it does not match the checkpoint it signs.

Online, verify also reads every checkpoint the gate published to ``_spine.audit`` and checks the records
against those as well as against the database's own: rewriting ``audit_records`` and emptying
``checkpoints`` is caught, and a published checkpoint missing from the database is reported as deleted.
When the topic cannot be read, verify exits 3 rather than report "intact": the database's checkpoints alone
cannot show a rewrite that also removed them, and a reviewer must not mistake the weaker check for the
stronger one. ``--skip-published`` runs the weaker check on purpose and says so on stderr.

Every command needs the ``residency`` extra, imported inside the commands so that a base install still
loads the CLI.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from cli.common import console, err_console, fail, handle_errors, needs_extra, print_json, print_table
from cli.residency import JSON_HELP, TOKEN_HELP, URL_HELP, _kafka_settings, gate_api
from spine.errors import ExitCode
from spine.kafka import KafkaClientError
from spine.topics import AUDIT

if TYPE_CHECKING:
    from residency_gate.audit import Checkpoint, VerifyReport

app = typer.Typer(help="Review and verify the residency audit log.", no_args_is_help=True)


def _target(record: dict[str, Any]) -> str:
    if record.get("kind") == "decision":
        return str(record.get("sink") or record.get("destination_region") or "")
    return str(record.get("subject") or record.get("policy_version") or "")


def _summary(record: dict[str, Any]) -> str:
    if record.get("kind") == "decision":
        reasons = record.get("reasons") or [""]
        return str(reasons[0])
    if record.get("kind") == "policy_change":
        return f"policy {record.get('policy_version')} by {record.get('actor')}"
    return str(record.get("detail") or "")


def print_records(records: list[dict[str, Any]], title: str) -> None:
    rows = [
        (
            r.get("seq"),
            str(r.get("time", ""))[:23],
            r.get("kind"),
            r.get("outcome") or "",
            r.get("dataset") or "",
            _target(r),
            r.get("decision_id") or "",
            _summary(r)[:80],
        )
        for r in records
    ]
    print_table(title, ("seq", "time (UTC)", "kind", "outcome", "dataset", "to", "decision", "detail"), rows)


def _warn(message: str) -> None:
    err_console.print(f"[bold yellow]WARNING:[/] {escape(message)}", highlight=False, soft_wrap=True)


def _report(report: VerifyReport, source: str, as_json: bool, *, late: int = 0) -> None:
    if as_json:
        print_json({"source": source, **report.to_dict(), "arrived_while_verifying": late})
    elif report.ok:
        counts = f"{report.records} records, {report.checkpoints} signed checkpoints"
        if report.published_checkpoints is not None:
            counts += f" ({report.published_checkpoints} of them read back from {AUDIT})"
        console.print(f"[bold green]intact[/]: {counts} ({escape(source)})", highlight=False, soft_wrap=True)
    if report.ok and report.unverified_tail:
        first = report.records - report.unverified_tail
        _warn(
            f"{report.unverified_tail} records (seq {first}..{report.records - 1}) are NOT covered by a "
            "signed checkpoint: nothing shows that records were not cut from the end or rewritten there "
            "(passed only because of --allow-unsigned-tail)"
        )
    if late:
        console.print(
            f"note: {late} records arrived while verifying; the next run covers them", highlight=False
        )
    if not report.ok:
        where = f"record seq {report.first_bad_seq}" if report.first_bad_seq is not None else "checkpoints"
        if "not covered by a signed" in (report.problem or ""):
            fail(
                f"audit log has an unsigned tail ({source}): {where}: {report.problem} "
                "(--allow-unsigned-tail to accept it)",
                ExitCode.REFUSED,
            )
        fail(f"audit log tampered ({source}): {where}: {report.problem}", ExitCode.REFUSED)


def _published(public_key_pem: bytes, skip: bool) -> list[Checkpoint] | None:
    if skip:
        _warn(
            f"the published checkpoints were NOT checked (--skip-published): a rewrite that also removed the "
            f"database's checkpoints would not be caught; read {AUDIT} when the broker is back"
        )
        return None
    from residency_gate.audit import key_id
    from residency_gate.published import published_checkpoints

    kafka = _kafka_settings()
    try:
        return published_checkpoints(kafka, key_id(public_key_pem))
    except KafkaClientError as exc:
        fail(
            f"cannot read the published checkpoints on {AUDIT} ({kafka.bootstrap}): {exc}; the database's "
            "own checkpoints cannot show a rewrite that also removed them (--skip-published to verify "
            "without them)",
            ExitCode.UNAVAILABLE,
        )


def _readable(path: Path, option: str) -> Path:
    if not path.is_file():
        fail(f"{option} {path}: file not found", ExitCode.USAGE)
    return path


@app.command("verify")
@handle_errors
@needs_extra("residency", "audit verify")
def verify(
    file: Path | None = typer.Option(None, "--file", help="Exported records (JSONL)."),
    checkpoints: Path | None = typer.Option(None, "--checkpoints", help="Exported checkpoints (JSONL)."),
    public_key: Path | None = typer.Option(None, "--public-key", help="Checkpoint public key (PEM)."),
    allow_unsigned_tail: bool = typer.Option(
        False, "--allow-unsigned-tail", help="Pass (with a warning) when records follow the last checkpoint."
    ),
    skip_published: bool = typer.Option(
        False, "--skip-published", help=f"Online: do not read the checkpoints published on {AUDIT}."
    ),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check the hash chain and the signed Merkle checkpoints; exit 0 only for an intact log."""
    from residency_gate.audit import Checkpoint, read_checkpoints, read_jsonl, verify_log

    if file is not None:
        if checkpoints is None or public_key is None:
            fail("--file needs --checkpoints and --public-key", ExitCode.USAGE)
        if skip_published:
            fail("--skip-published goes with online verification, not --file", ExitCode.USAGE)
        records = read_jsonl(_readable(file, "--file"))
        cps = read_checkpoints(_readable(checkpoints, "--checkpoints"))
        key = _readable(public_key, "--public-key").read_bytes()
        report = verify_log(records, cps, key, allow_unsigned_tail=allow_unsigned_tail)
        _report(report, str(file), as_json)
        return
    if checkpoints is not None or public_key is not None:
        fail("--checkpoints and --public-key go with --file", ExitCode.USAGE)
    with gate_api(url, token) as api:
        signed = Checkpoint.from_dict(api.sign_checkpoint(force=True)["checkpoint"])
        records = api.audit_all()
        cps = [Checkpoint.from_dict(c) for c in api.checkpoints()]
        key = api.public_key()["public_key_pem"].encode("ascii")
        source = api.url
    late = max(0, len(records) - signed.tree_size)
    published = _published(key, skip_published)
    if published == [] and cps:
        _warn(
            f"{AUDIT} holds none of this gate's checkpoints although its database has {len(cps)}: only the "
            "database's checkpoints were checked (was the topic deleted or the broker reset, or does the "
            "gate publish to another broker?)"
        )
    report = verify_log(
        records[: signed.tree_size],
        [*cps, signed],
        key,
        published=published,
        allow_unsigned_tail=allow_unsigned_tail,
    )
    _report(report, source, as_json, late=late)


@app.command("tail")
@handle_errors
@needs_extra("residency", "audit tail")
def tail(
    count: int = typer.Option(20, "-n", "--lines", min=1, max=10_000, help="How many records."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the newest records of the audit log."""
    with gate_api(url, token) as api:
        size = int(api.audit(limit=1)["size"])
        records = api.audit(since_seq=max(0, size - count), limit=count)["records"]
    if as_json:
        print_json({"size": size, "records": records})
    else:
        print_records(records, f"last {len(records)} of {size} audit records")


@app.command("show")
@handle_errors
@needs_extra("residency", "audit show")
def show(
    decision_id: str = typer.Argument(..., help="A decision id from an evaluate answer or the log."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the audit record of one decision, every field."""
    with gate_api(url, token) as api:
        records = api.audit(decision_id=decision_id)["records"]
    if as_json:
        print_json({"records": records})
        return
    for record in records:
        rows: list[tuple[str, Any]] = []
        for key, value in record.items():
            if isinstance(value, list):
                value = "\n".join(str(item) for item in value) if value else "—"
            elif isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, [], ""))
            rows.append((key, value))
        print_table(f"decision {decision_id} (seq {record.get('seq')})", ("field", "value"), rows)


def _companions(out: Path) -> tuple[Path, Path]:
    stem = out.name.removesuffix(".jsonl").removesuffix(".csv")
    return out.with_name(f"{stem}.checkpoints.jsonl"), out.with_name(f"{stem}.public-key.pem")


@app.command("export")
@handle_errors
@needs_extra("residency", "audit export")
def export(
    since: str | None = typer.Option(None, "--since", help="Only records at or after this ISO-8601 time."),
    until: str | None = typer.Option(None, "--until", help="Only records before this ISO-8601 time."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl (verifiable) or csv (for people)."),
    out: Path | None = typer.Option(None, "--out", help="Write here (and checkpoints + key next to it)."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help="With --out, print what was written as JSON."),
) -> None:
    """Export audit records. With --out, also NAME.checkpoints.jsonl and NAME.public-key.pem for
    ``spine audit verify --file`` (a full export verifies; a time window is for reading)."""
    from residency_gate.audit import jsonl_line, records_to_csv

    if fmt not in {"jsonl", "csv"}:
        fail(f"--format {fmt!r}: expected jsonl or csv", ExitCode.USAGE)
    with gate_api(url, token) as api:
        if out is not None:
            api.sign_checkpoint()
        records = api.audit_all(since=since, until=until)
        cps = api.checkpoints() if out is not None else []
        key = api.public_key()["public_key_pem"] if out is not None else ""
    text = "".join(jsonl_line(r) + "\n" for r in records) if fmt == "jsonl" else records_to_csv(records)
    if out is None:
        sys.stdout.write(text)
        return
    cps_path, key_path = _companions(out)
    try:
        out.write_text(text, encoding="utf-8")
        cps_path.write_text("".join(jsonl_line(c) + "\n" for c in cps), encoding="utf-8")
        key_path.write_text(key, encoding="utf-8")
    except OSError as exc:
        fail(f"--out {out}: cannot write: {exc.strerror}", ExitCode.USAGE)
    if as_json:
        print_json(
            {
                "records": len(records),
                "checkpoints": len(cps),
                "files": {"records": str(out), "checkpoints": str(cps_path), "public_key": str(key_path)},
            }
        )
        return
    console.print(
        f"exported {len(records)} records to {out}, {len(cps)} checkpoints to {cps_path}, "
        f"the public key to {key_path}",
        highlight=False,
    )


__all__ = ["app", "print_records"]
