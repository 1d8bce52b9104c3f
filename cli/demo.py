"""``spine demo``: self-contained demonstrations on throw-away servers (nothing of yours is touched)."""

from __future__ import annotations

import typer

from cli.common import console, handle_errors, needs_extra, print_json, print_table

app = typer.Typer(help="Demonstrations on throw-away servers.", no_args_is_help=True)


@app.command("cdc")
@handle_errors
@needs_extra("cdc", "demo cdc")
def cdc(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")) -> None:
    """Throw-away PostgreSQL -> Debezium -> residency gate per batch -> SQLite: one route redacted, one
    denied into the DLQ."""
    from cdc.demo import run_demo

    result = run_demo(lambda line: None if as_json else console.print(line, highlight=False))
    if as_json:
        print_json(
            {"sink_rows": result.sink_rows, "dead_letters": result.dead_letters, "batches": result.batches}
        )
        return
    print_table(
        "sink analytics-eu: customers (email masked by the gate's decision)",
        ["id", "name", "email", "country"],
        [[r["id"], r["name"], r["email"], r["country"]] for r in result.sink_rows],
    )
    print_table(
        "DLQ demo.public.payments.dlq: denied, nothing in the sink",
        ["offset", "reason", "decision"],
        [[d["offset"], d["reason"], d["decision_id"]] for d in result.dead_letters],
    )
    print_table(
        "_spine_cdc_batches: each batch with its decision ids",
        ["route", "rows", "dead-lettered", "decision ids"],
        [[b["route"], b["rows"], b["dead_lettered"], b["decision_ids"]] for b in result.batches],
    )
