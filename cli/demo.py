"""``spine demo``: self-contained demonstrations on throw-away servers (nothing of yours is touched)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import typer

from cli.common import console, handle_errors, needs_extra, print_json, print_table
from cli.service import ServiceClient, ServiceRefusedError, default_token, default_url
from spine.errors import UnavailableError
from spine.settings import SpineSettings, load_settings

LINEAGE_FILE = "demo-cdc-lineage.json"

app = typer.Typer(help="Demonstrations on throw-away servers.", no_args_is_help=True)


@app.command("cdc")
@handle_errors
@needs_extra("cdc", "demo cdc")
def cdc(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables.")) -> None:
    """Throw-away PostgreSQL -> Debezium -> residency gate per batch -> SQLite: one route redacted, one
    denied into the DLQ."""
    from cdc.demo import run_demo

    result = run_demo(lambda line: None if as_json else console.print(line, highlight=False))
    lineage = _deliver_lineage(result.lineage)
    if as_json:
        print_json(
            {
                "sink_rows": result.sink_rows,
                "dead_letters": result.dead_letters,
                "batches": result.batches,
                "lineage": lineage,
            }
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
    if lineage["sent_to"]:
        console.print(
            f"lineage: {lineage['events']} events of the batches' runs sent to {lineage['sent_to']}; "
            f"the graph: {lineage['ui']}",
            highlight=False,
        )
    else:
        console.print(
            f"lineage: {lineage['reason']}; saved {lineage['events']} events to {lineage['file']}. "
            f"To see them in the UI: spine up --detach && spine lineage send {lineage['file']}",
            highlight=False,
        )


def _deliver_lineage(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Send the demo's lineage to the lineage service (``SPINE_LINEAGE_URL``, else the running spine's);
    without one, save it under ``$SPINE_HOME`` for ``spine lineage send``."""
    url = default_url("lineage", "SPINE_LINEAGE_URL")
    jobs = sorted({str(e["job"]["name"]) for e in events if isinstance(e.get("job"), dict)})
    node = f"job:{events[0]['job']['namespace']}:{jobs[0]}" if jobs else ""
    outcome: dict[str, Any] = {"events": len(events), "jobs": jobs, "sent_to": None, "file": None}
    try:
        ServiceClient("lineage", url, default_token(), timeout=30.0).request(
            "POST", "/api/v1/lineage/batch", json=events
        )
    except (UnavailableError, ServiceRefusedError) as exc:
        path = load_settings(SpineSettings).home / LINEAGE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(events, indent=1) + "\n", encoding="utf-8")
        return {**outcome, "file": str(path), "reason": f"not sent ({exc})"}
    return {**outcome, "sent_to": url, "ui": f"{url}/#{urlencode({'node': node, 'depth': 2})}"}
