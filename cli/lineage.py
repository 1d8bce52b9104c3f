"""``spine lineage``: send OpenLineage events, show a node's lineage, export every stored event.

Commands talk to the lineage service at ``--url`` (default ``SPINE_LINEAGE_URL``, else the URL the running
``spine up`` recorded) with ``--token`` (default ``SPINE_TOKEN``, else the ``spine up`` admin token).
``send`` validates events locally first with the lineage package (the ``lineage`` extra), imported inside
the command so that a base install still loads the CLI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from cli.common import console, fail, handle_errors, needs_extra, print_json, print_table
from cli.service import ServiceClient, default_token, default_url
from spine.errors import ExitCode

app = typer.Typer(help="Lineage: send OpenLineage events, show lineage, export events.", no_args_is_help=True)

URL_HELP = "Lineage service URL (default SPINE_LINEAGE_URL, else the running spine's)."
TOKEN_HELP = "Bearer token with the producer role (default SPINE_TOKEN, else $SPINE_HOME/auth/admin.token)."  # noqa: S105
JSON_HELP = "Print JSON instead of a table."
PAGE = 1000
# Refusals that mean "the event is invalid" (exit 1), not "the command was used wrongly" (exit 2).
REFUSALS = frozenset({42201, 42202, 42203, 42204})


def _client(url: str | None, token: str | None) -> ServiceClient:
    return ServiceClient(
        "lineage",
        url or default_url("lineage", "SPINE_LINEAGE_URL"),
        token or default_token(),
        timeout=30.0,
        refusal_codes=REFUSALS,
    )


@app.command("send")
@handle_errors
@needs_extra("lineage", "lineage send")
def send(
    file: Path = typer.Argument(..., help="One OpenLineage event, or a JSON array of events."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Validate events against the OpenLineage spec, then send them; exit 1 naming the first problem."""
    from lineage.validate import validate_event

    try:
        payload = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{file}: cannot read: {exc.strerror}", ExitCode.USAGE)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{file}: not valid JSON: {exc}", ExitCode.USAGE)
    events = payload if isinstance(payload, list) else [payload]
    for index, event in enumerate(events):
        problems = validate_event(event)
        if problems:
            where = f"$[{index}]" + problems[0].path[1:] if isinstance(payload, list) else problems[0].path
            if as_json:
                print_json({"valid": False, "problems": [{**p.to_dict(), "event": index} for p in problems]})
            fail(f"{file}: {where}: {problems[0].message}", ExitCode.REFUSED)
    result = _client(url, token).request("POST", "/api/v1/lineage/batch", json=events)
    if as_json:
        print_json(result)
        return
    stored, duplicates = result["stored"], result["duplicates"]
    message = f"sent {result['received']} event(s): {stored} stored, {duplicates} already stored"
    console.print(message, highlight=False)


@app.command("show")
@handle_errors
def show(
    node: str = typer.Argument(..., help="dataset:NAMESPACE:NAME or job:NAMESPACE:NAME."),
    depth: int = typer.Option(5, "--depth", min=0, max=100, help="Edges to follow each way."),
    tag: str | None = typer.Option(None, "--tag", help="Keep datasets with this tag (or a dotted child)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Show the graph as it was at this ISO time."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show the lineage of a node: every node within DEPTH edges and the edges between them."""
    params: dict[str, Any] = {"nodeId": node, "depth": depth}
    if tag:
        params["tag"] = tag
    if as_of:
        params["asOf"] = as_of
    graph = _client(url, None).request("GET", "/api/v1/lineage", params=params)
    if as_json:
        print_json(graph)
        return
    rows = []
    for item in graph["graph"]:
        data = item.get("data") or {}
        tags = sorted(
            {*data.get("tags", []), *(t for f in data.get("fields", []) for t in f.get("tags", []))}
        )
        downstream = ", ".join(e["destination"] for e in item["outEdges"])
        rows.append((item["type"], item["id"], ", ".join(tags), downstream))
    print_table(f"lineage of {node} (depth {depth})", ("type", "node", "tags", "→ downstream"), rows)


@app.command("export")
@handle_errors
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write JSONL here instead of stdout."),
    url: str | None = typer.Option(None, "--url", help=URL_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary (needs --output)."),
) -> None:
    """Export every stored event, oldest first, one JSON document per line."""
    client = _client(url, None)
    sink = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        while True:
            page = client.request(
                "GET",
                "/api/v1/events/lineage",
                params={"limit": PAGE, "offset": count, "sortDirection": "asc"},
            )
            for event in page["events"]:
                sink.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False) + "\n")
            count += len(page["events"])
            if len(page["events"]) < PAGE:
                break
    finally:
        if output:
            sink.close()
    if output and as_json:
        print_json({"file": str(output), "events": count})
    elif output:
        console.print(f"exported {count} event(s) to {output}", highlight=False)


__all__ = ["app"]
