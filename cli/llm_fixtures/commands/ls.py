"""`fixtures ls` (being written)."""

from __future__ import annotations

import typer


def run() -> None:
    """Not implemented yet."""
    typer.echo("error: fixtures ls is not implemented yet", err=True)
    raise typer.Exit(2)
