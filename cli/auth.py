"""``spine auth``: bearer tokens for the embedded spine."""

from __future__ import annotations

import typer

from cli.common import handle_errors
from spine.auth import TokenStore, parse_role
from spine.settings import SpineSettings, load_settings

app = typer.Typer(help="Bearer tokens for the embedded spine.", no_args_is_help=True)


@app.command("token")
@handle_errors
def token(
    role: str = typer.Option(..., "--role", help="producer, consumer, security or admin"),
    name: str | None = typer.Option(None, "--name", help="A label to recognise the token by."),
) -> None:
    """Create a token with ROLE, store its hash in $SPINE_HOME, and print the token."""
    settings = load_settings(SpineSettings)
    store = TokenStore(settings.tokens_path)
    typer.echo(store.issue(parse_role(role), name))
