"""``spine cdc``: CDC routes from PostgreSQL (Debezium) through the residency gate into SQL sinks.

The CDC package is imported inside the commands, so a base install still loads the CLI.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cli.common import console, fail, handle_errors, needs_extra, print_json, print_table
from cli.service import default_bootstrap, default_token, default_url
from spine.errors import ConfigError, ExitCode, SpineError
from spine.settings import CdcSettings, KafkaSettings, SpineSettings, load_settings

if TYPE_CHECKING:
    from cdc.routes import RouteFile

app = typer.Typer(
    help="CDC routes: validate route files, status, resume a stopped route, replay dead letters.",
    no_args_is_help=True,
)
dlq_app = typer.Typer(help="Dead letters of a CDC route: list, show, replay.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

JSON_HELP = "Print JSON instead of a table."
ROUTES_HELP = "Route file (default SPINE_CDC_ROUTES_FILE / [cdc] routes_file)."
TOKEN_HELP = "Bearer token (default SPINE_TOKEN, else $SPINE_HOME/auth/admin.token)."  # noqa: S105


def _routes(path: Path | None) -> RouteFile:
    from cdc.routes import load_routes

    path = path or load_settings(CdcSettings).routes_file
    if path is None:
        raise ConfigError("no route file: pass --routes FILE or set SPINE_CDC_ROUTES_FILE")
    return load_routes(path)


def _since_ms(since: str | None) -> int | None:
    if since is None:
        return None
    try:
        return int(datetime.fromisoformat(since).timestamp() * 1000)
    except ValueError:
        raise ConfigError(f"--since {since}: not an ISO 8601 time (e.g. 2026-12-03T07:00:00+00:00)") from None


def _dlq_rows(routes: RouteFile, name: str) -> list[dict[str, Any]]:
    from spine.governed.dlq import ReplayLedger
    from spine.governed.replay import dead_letters
    from spine.headers import DlqHeaders
    from spine.topics import dlq_topic

    topic = routes.topic(routes.route(name))
    ledger = ReplayLedger(load_settings(SpineSettings).home)
    try:
        replayed = ledger.replayed(dlq_topic(topic))
    finally:
        ledger.close()
    rows = []
    for msg in dead_letters(KafkaSettings(bootstrap=default_bootstrap()), topic):
        headers = DlqHeaders.from_kafka(msg.headers())
        value = msg.value()
        rows.append(
            {
                "offset": msg.offset(),
                "stage": headers.stage if headers else "",
                "reason": headers.reason if headers else "",
                "decision_id": headers.decision_id if headers else None,
                "source_position": f"{topic}:{headers.origin_partition}@{headers.origin_offset}"
                if headers
                else "",
                "attempts": headers.attempts if headers else 0,
                "first_failure_ms": headers.first_failure_ms if headers else 0,
                "last_failure_ms": headers.last_failure_ms if headers else 0,
                "replayed": ((msg.partition() or 0), (msg.offset() or 0)) in replayed,
                "value": None if value is None else base64.b64encode(value).decode(),
            }
        )
    return rows


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


@app.command("connect-config")
@handle_errors
@needs_extra("cdc", "cdc connect-config")
def connect_config(
    routes_file: Path | None = typer.Option(None, "--routes", help=ROUTES_HELP),
) -> None:
    """The Kafka Connect registration (POST /connectors body) of the route file's Debezium connector."""
    from cdc.source import connect_config as build

    print_json(build(_routes(routes_file), load_settings(CdcSettings)))


@app.command("register")
@handle_errors
@needs_extra("cdc", "cdc register")
def register(
    connect: str = typer.Option(..., "--connect", help="Kafka Connect's REST URL, e.g. http://connect:8083."),
    routes_file: Path | None = typer.Option(None, "--routes", help=ROUTES_HELP),
) -> None:
    """Create or update the route file's Debezium connector on Kafka Connect (idempotent: run it at every
    start); with a Kafka bootstrap set, first create its change, DLQ and heartbeat topics."""
    from cdc.connect import register as put

    kafka = load_settings(KafkaSettings)
    answer = put(
        connect, _routes(routes_file), load_settings(CdcSettings), kafka if kafka.bootstrap else None
    )
    console.print(f"connector {answer.get('name')} registered at {connect}")


@app.command("status")
@handle_errors
@needs_extra("cdc", "cdc status")
def status(
    routes_file: Path | None = typer.Option(None, "--routes", help=ROUTES_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Per route: state, lag p50/p95 (commit to sink commit), last position, rows/s, DLQ depth, last
    decision, and the WAL the replication slot retains."""
    from cdc.status import route_statuses

    routes = _routes(routes_file)
    depths: dict[str, int | None] = {}
    for route in routes.routes:
        try:
            depths[route.route_name] = sum(
                1 for r in _dlq_rows(routes, route.route_name) if not r["replayed"]
            )
        except SpineError:
            depths[route.route_name] = None
    statuses = route_statuses(routes, depths)
    if as_json:
        print_json([s.to_dict() for s in statuses])
        return
    columns = ["route", "state", "lag p50 ms", "lag p95 ms", "last position", "rows/s", "dlq",
               "last decision", "slot WAL bytes"]  # fmt: skip
    rows = [
        [s.route, s.state, s.lag_p50_ms, s.lag_p95_ms, s.last_position, s.rows_per_s, s.dlq_depth,
         s.last_decision, s.slot_retained_wal_bytes]
        for s in statuses
    ]  # fmt: skip
    print_table("CDC routes", columns, rows)


@app.command("resume")
@handle_errors
@needs_extra("cdc", "cdc resume")
def resume(
    route: str = typer.Argument(..., help="Route name."),
    routes_file: Path | None = typer.Option(None, "--routes", help=ROUTES_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Resume ROUTE after a breaking schema change stopped it (fix the source first); the router takes
    it up at its next batch, and a schema that still breaks stops it again."""
    from cdc.sink import SqlSink

    routes = _routes(routes_file)
    found = routes.route(route)
    sink = SqlSink(found.sink, routes.sinks[found.sink].url.get_secret_value())
    try:
        was = sink.resume_route(found.route_name)
    finally:
        sink.close()
    if was is None:
        fail(f"route {route} is not stopped: nothing to resume", ExitCode.USAGE)
    if as_json:
        print_json({"route": found.route_name, "resumed": True, "was": was})
        return
    console.print(
        f"route {found.route_name} resumed (it was {was.removeprefix(f'route {found.route_name} ')}); "
        f"replay what it dead-lettered meanwhile with: spine cdc dlq replay {found.route_name}",
        highlight=False,
    )


@dlq_app.command("list")
@handle_errors
@needs_extra("cdc", "cdc dlq list")
def dlq_list(
    route: str = typer.Argument(..., help="Route name."),
    routes_file: Path | None = typer.Option(None, "--routes", help=ROUTES_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Dead letters of ROUTE: offset, stage, decision, attempts, replayed, reason."""
    rows = _dlq_rows(_routes(routes_file), route)
    if as_json:
        print_json([{k: v for k, v in r.items() if k != "value"} for r in rows])
        return
    columns = ("offset", "stage", "decision_id", "attempts", "replayed", "reason")
    print_table(f"{route} dead letters", columns, [[r[k] for k in columns] for r in rows])


@dlq_app.command("show")
@handle_errors
@needs_extra("cdc", "cdc dlq show")
def dlq_show(
    route: str = typer.Argument(..., help="Route name."),
    offset: int | None = typer.Option(None, "--id", help="Only the dead letter at this DLQ offset."),
    routes_file: Path | None = typer.Option(None, "--routes", help=ROUTES_HELP),
) -> None:
    """Every dead letter of ROUTE (or one) with its headers and the original value (base64), as JSON."""
    rows = [r for r in _dlq_rows(_routes(routes_file), route) if offset is None or r["offset"] == offset]
    if offset is not None and not rows:
        fail(f"route {route} has no dead letter at offset {offset}", ExitCode.USAGE)
    print_json(rows)


@dlq_app.command("replay")
@handle_errors
@needs_extra("cdc", "cdc dlq replay")
def dlq_replay(
    route: str = typer.Argument(..., help="Route name."),
    offset: int | None = typer.Option(None, "--id", help="Only the dead letter at this DLQ offset."),
    since: str | None = typer.Option(None, "--since", help="Only dead letters written since (ISO 8601)."),
    routes_file: Path | None = typer.Option(None, "--routes", help=ROUTES_HELP),
    token: str | None = typer.Option(None, "--token", help=TOKEN_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Run ROUTE's dead letters through the gate and the sink again; each lands once however often run.

    Exits 1 when some are still refused (still denied or undecodable)."""
    from cdc.registration import registry_client
    from cdc.replay import replay_route
    from residency_gate.client import GateClient
    from spine.governed.dlq import ReplayLedger

    routes = _routes(routes_file)
    since_ms = _since_ms(since)
    cdc = load_settings(CdcSettings)
    url = cdc.residency_url or default_url("residency-gate", "SPINE_RESIDENCY_URL")
    gate = GateClient(url, token or default_token(), timeout=cdc.gate_timeout)
    ledger = ReplayLedger(load_settings(SpineSettings).home)
    registry = registry_client(routes)
    try:
        result = replay_route(
            routes, route, KafkaSettings(bootstrap=default_bootstrap()), gate, ledger,
            only_offset=offset, since_ms=since_ms, registry=registry,
        )  # fmt: skip
    finally:
        ledger.close()
        gate.close()
        if registry is not None:
            registry.close()
    refused = [(o, r) for o, r in result.still_invalid if not r.startswith("not selected")]
    if as_json:
        print_json({"landed": result.sent, "already": result.already, "refused": refused})
    else:
        counts = f"{len(result.sent)} landed, {len(result.already)} already replayed, {len(refused)} refused"
        console.print(f"{route}: {counts}")
        for off, reason in refused:
            console.print(f"  offset {off}: {reason}", highlight=False)
    if refused:
        raise SystemExit(int(ExitCode.REFUSED))


__all__ = ["app"]
