"""CLI stage: what every `azc` command shares: consoles, and library errors turned into messages at the edge."""

from __future__ import annotations

import functools
from pathlib import Path

import typer
from rich.console import Console

from azlang.errors import AzError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def report_error(exc: AzError) -> None:
    """Print a library error with its source line and caret (file read back if needed), no traceback."""
    source = exc.source
    if source is None and exc.loc is not None and Path(exc.loc.file).is_file():
        source = Path(exc.loc.file).read_text()
    err.print(exc.render(source), markup=False, soft_wrap=True)


def friendly(fn=None, *, interrupted: str = "interrupted"):
    """Turn AzError into a message and exit code 1; Ctrl-C into `interrupted` and exit code 130."""
    if fn is None:
        return functools.partial(friendly, interrupted=interrupted)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AzError as exc:
            report_error(exc)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print(interrupted)
            raise typer.Exit(130) from None

    return wrapper
