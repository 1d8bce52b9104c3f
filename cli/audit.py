"""``spine audit``: Review and verify the residency audit log."""

from __future__ import annotations

import typer

app = typer.Typer(help="Review and verify the residency audit log.", no_args_is_help=True)
