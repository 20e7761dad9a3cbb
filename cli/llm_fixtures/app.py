"""The Typer application: each command parses, calls the core, renders and exits."""

from __future__ import annotations

import typer

from llm_fixtures import __version__
from llm_fixtures.commands import check, diff, ls, normalize, prune, rerecord, show
from llm_fixtures.commands.coercion import FastCommand, FastGroup

app = typer.Typer(
    name="fixtures",
    help="Look after recorded LLM API fixtures: list, show, diff, check, prune and re-record them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=FastGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fixtures {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Look after recorded LLM API fixtures (llama-stack / OGX record-replay format)."""


app.command("ls", cls=FastCommand)(ls.run)
app.command("show", cls=FastCommand)(show.run)
app.command("diff", cls=FastCommand)(diff.run)
app.command("check", cls=FastCommand)(check.run)
app.command("normalize", cls=FastCommand)(normalize.run)
app.command("prune", cls=FastCommand)(prune.run)
app.command("rerecord", cls=FastCommand)(rerecord.run)


def main() -> None:
    app()
