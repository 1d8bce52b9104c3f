"""Entry point of the ``spine`` command: registers one Typer group per module."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from cli import audit, auth, cdc, demo, lineage, logs, pipeline, residency, runtime, schema, topic
from cli.common import fail
from spine.errors import ExitCode, SpineError
from spine.logging import configure_logging
from spine.settings import check_environment, read_config_file

app = typer.Typer(
    name="spine",
    help="Data Spine: governed data movement on Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def configure(
    config: Path | None = typer.Option(
        None,
        "--config",
        help="TOML configuration file for every command (else $SPINE_CONFIG, else $SPINE_HOME/spine.toml).",
    ),
) -> None:
    """Data Spine: governed data movement on Kafka."""
    if config is None:
        return
    if not config.is_file():
        fail(f"--config {config}: no such file", ExitCode.USAGE)
    try:
        read_config_file(config)
    except SpineError as exc:
        fail(str(exc), exc.exit_code)
    os.environ["SPINE_CONFIG"] = str(config.resolve())


app.command("up")(runtime.up)
app.command("down")(runtime.down)
app.command("status")(runtime.status)
app.add_typer(auth.app, name="auth")
app.add_typer(schema.app, name="schema")
app.add_typer(residency.app, name="residency")
app.add_typer(audit.app, name="audit")
app.add_typer(lineage.app, name="lineage")
app.add_typer(topic.app, name="topic")
app.add_typer(pipeline.app, name="pipeline")
app.add_typer(logs.app, name="logs")
app.add_typer(cdc.app, name="cdc")
app.add_typer(demo.app, name="demo")


def main() -> None:
    configure_logging("WARNING")
    try:
        check_environment()
    except SpineError as exc:
        fail(str(exc), exc.exit_code)
    app()


__all__ = ["app", "main"]
