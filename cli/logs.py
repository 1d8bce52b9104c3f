"""``spine logs``: pipeline run logs under ``$SPINE_HOME/runs`` (list, show, bundle, HTML report).

Everything printed comes from the run directory, which holds only masked data. Needs the ``oml`` extra.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from cli.common import console, handle_errors, needs_extra, print_json, print_table

app = typer.Typer(help="Pipeline run logs: list, show, bundle, html.", no_args_is_help=True)
RUN_HELP = "Run id (see spine logs list), or 'last'."


def _home() -> Path:
    from spine.settings import SpineSettings, load_settings

    return load_settings(SpineSettings).home


@app.command("list")
@handle_errors
@needs_extra("oml", "logs list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Runs, newest first."""
    from oml.runlog import list_runs

    runs = list_runs(_home())
    if as_json:
        print_json([{"run_id": r.run_id, "dir": str(r.dir), **r.status} for r in runs])
        return
    rows = [
        (r.run_id, r.status.get("pipeline"), r.status.get("state"), r.status.get("started")) for r in runs
    ]
    print_table("runs", ("run", "pipeline", "state", "started"), rows)


@app.command("show")
@handle_errors
@needs_extra("oml", "logs show")
def show_cmd(
    run_id: str = typer.Argument(..., help=RUN_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """A run's status, event timeline and per-step metrics."""
    from oml.runlog import events, find_run, metrics_summary

    run = find_run(_home(), run_id)
    summary = metrics_summary(run)
    if as_json:
        print_json({"status": dict(run.status), "events": events(run), "metrics": summary})
        return
    console.print(f"run {escape(run.run_id)}: {escape(str(run.status.get('state')))}")
    print_table("events", ("time", "event", "data"),
                [(e.get("timestamp"), e.get("event_type"), json.dumps(e.get("data"), sort_keys=True)[:100])
                 for e in events(run)])  # fmt: skip
    names = ("rows_in", "rows_out", "rows_rejected", "execution_time_ms")
    rows = [(step, *(f"{m.get(n, 0):.0f}" for n in names)) for step, m in summary.items() if step != "(run)"]
    print_table("steps", ("step", *names), rows)


@app.command("bundle")
@handle_errors
@needs_extra("oml", "logs bundle")
def bundle_cmd(
    run_id: str = typer.Argument(..., help=RUN_HELP),
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
) -> None:
    """One text file: manifest, resolved config (secrets masked), events, metrics summary, artifacts."""
    from oml.runlog import bundle, find_run

    text = bundle(find_run(_home(), run_id))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"bundle written to {escape(str(out))}")


@app.command("html")
@handle_errors
@needs_extra("oml", "logs html")
def html_cmd(
    run_id: str = typer.Argument(..., help=RUN_HELP),
    out: Path | None = typer.Option(
        None, "--out", help="Write here (default: report.html in the run's directory)."
    ),
) -> None:
    """An HTML report with a per-step rows and latency chart."""
    from oml.runlog import find_run, html_report

    run = find_run(_home(), run_id)
    target = out or run.dir / "report.html"
    target.write_text(html_report(run), encoding="utf-8")
    console.print(f"report written to {escape(str(target))}")


__all__ = ["app"]
