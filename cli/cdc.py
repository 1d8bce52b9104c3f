"""``spine cdc``: CDC routes from PostgreSQL (Debezium) through the residency gate into SQL sinks.

The CDC package is imported inside the commands, so a base install still loads the CLI.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import console, handle_errors, print_json, print_table

app = typer.Typer(help="CDC routes: validate route files, run the source and router.", no_args_is_help=True)

JSON_HELP = "Print JSON instead of a table."


@app.command("validate")
@handle_errors
def validate(
    file: Path = typer.Argument(..., help="Route file (YAML), e.g. examples/cdc/routes.yaml."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Check a route file: keys, names, secrets (${NAME} set in the environment, never inline)."""
    from cdc.routes import load_routes

    routes = load_routes(file)
    rows = [
        {
            "route": r.route_name,
            "table": r.table,
            "topic": routes.topic(r),
            "dataset": r.dataset,
            "sink": r.sink,
            "sink_table": r.target_table,
            "key": list(r.key),
            "delete": r.delete,
        }
        for r in routes.routes
    ]
    if as_json:
        print_json({"file": str(file), "source": routes.source.name, "routes": rows})
        return
    print_table(
        f"{file}: {len(rows)} route(s) valid",
        ["route", "topic", "dataset", "sink", "sink table", "key", "delete"],
        [
            [
                r["route"],
                r["topic"],
                r["dataset"],
                r["sink"],
                r["sink_table"],
                ",".join(r["key"]),
                r["delete"],
            ]
            for r in rows
        ],
    )
    console.print(f"{file}: ok")


__all__ = ["app"]
