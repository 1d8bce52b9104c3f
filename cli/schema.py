"""``spine schema``: Publish, validate, diff, lint and roll back schemas."""

from __future__ import annotations

import typer

app = typer.Typer(help="Publish, validate, diff, lint and roll back schemas.", no_args_is_help=True)
