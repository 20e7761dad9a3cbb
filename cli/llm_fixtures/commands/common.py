"""What every command shares: option aliases, error handling, JSON Lines output."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from llm_fixtures.errors import FixtureError

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Recording files or folders. Default: every `recordings` folder of the project."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON Lines on stdout, one object per item.")]


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn a FixtureError into `error: ...` on stderr and exit 2; anything else is a bug and raises."""
    try:
        yield
    except FixtureError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def warn(message: str) -> None:
    """One line on stderr."""
    typer.echo(message, err=True)


def echo_json_lines(items: Iterable[BaseModel]) -> None:
    """JSON Lines on stdout, written in one go (never through rich, which wraps and eats markup)."""
    out = sys.stdout
    for item in items:
        out.write(item.model_dump_json())
        out.write("\n")
    out.flush()
