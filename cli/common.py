"""What every command group shares: error-to-exit-code translation, tables, JSON output, service clients."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, ParamSpec, TypeVar

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spine.errors import ExitCode, SpineError
from spine.extras import ExtraMissingError, is_from_extra

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: ExitCode) -> NoReturn:
    """Print one line to stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise SystemExit(int(code))


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn SpineError into one line on stderr and its exit code; nothing else reaches the user as a trace."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except SpineError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            raise SystemExit(130) from None

    return wrapper


def needs_extra(extra: str, command: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark ``spine COMMAND`` as needing ``extra``, whose modules it imports inside its body (so a base
    install still loads the CLI): a missing one becomes one line naming the extra, exit 2."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except ModuleNotFoundError as exc:
                if not is_from_extra(exc, extra):
                    raise
                fail(str(ExtraMissingError(f"spine {command}", extra)), ExitCode.USAGE)

        return wrapper

    return decorate


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


__all__ = ["console", "err_console", "fail", "handle_errors", "needs_extra", "print_json", "print_table"]
