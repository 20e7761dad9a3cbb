"""The Typer application: each command parses, calls the core, renders and exits."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable

import typer

from llm_fixtures import __version__
from llm_fixtures.commands.coercion import FastCommand, FastGroup

# The commands, in the order `fixtures --help` lists them: each is `run` in llm_fixtures.commands.<name>.
COMMANDS = ("ls", "show", "diff", "check", "normalize", "prune", "rerecord", "explain")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fixtures {__version__}")
        raise typer.Exit()


def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Look after recorded LLM API fixtures (llama-stack / OGX record-replay format)."""


def build_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The application with the commands `names` (each imported here)."""
    app = typer.Typer(
        name="fixtures",
        help="Look after recorded LLM API fixtures: list, show, diff, check, prune, re-record, explain replay misses.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        cls=FastGroup,
    )
    app.callback()(_main)
    for name in names:
        module = importlib.import_module(f"llm_fixtures.commands.{name}")
        app.command(name, cls=FastCommand)(module.run)
    return app


def __getattr__(name: str) -> typer.Typer:
    """`app`: the whole application, every command, built on first use (tests, `CliRunner`)."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    whole = build_app()
    globals()["app"] = whole
    return whole


def main() -> None:
    # When the first argument names a command, only that command is imported and built: Typer builds every
    # registered command before it parses anything, and the others would be a fifth of the start-up. Its
    # usage, help and errors are the same as in the whole application (tests/test_app.py).
    first = sys.argv[1] if len(sys.argv) > 1 else None
    try:
        build_app([first] if first in COMMANDS else COMMANDS)()
    finally:
        # A command that ends before it has read all its results (its reader went away, Ctrl-C) drops the work
        # its worker processes have not started: the exit waits for what they hold, not for all of it.
        pooling = sys.modules.get("llm_fixtures.pooling")
        if pooling is not None:
            pooling.stop_pools()
