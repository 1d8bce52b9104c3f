"""``spine residency``: Residency policy: test cases, scan for unauthorized sinks."""

from __future__ import annotations

import typer

app = typer.Typer(help="Residency policy: test cases, scan for unauthorized sinks.", no_args_is_help=True)
