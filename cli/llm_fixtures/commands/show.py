"""`fixtures show` (being written)."""

from __future__ import annotations

import typer


def run() -> None:
    """Not implemented yet."""
    typer.echo("error: fixtures show is not implemented yet", err=True)
    raise typer.Exit(2)
