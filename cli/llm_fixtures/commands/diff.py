"""`fixtures diff`: review a re-recording by what changed in meaning, paired by test, git-aware."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from llm_fixtures.commands.check import note_skipped
from llm_fixtures.commands.common import JsonOpt, echo_json_lines, handle_errors, warn
from llm_fixtures.config import load_project
from llm_fixtures.errors import UsageError


class Format(StrEnum):
    human = "human"
    markdown = "markdown"


def run(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="OLD NEW (two files or two folders); with --git, optional paths to narrow the comparison.",
            show_default=False,
        ),
    ] = None,
    *,
    git: Annotated[
        str | None,
        typer.Option("--git", metavar="REV|A..B", help="Compare REV with the working tree, or revision A with B."),
    ] = None,
    as_json: JsonOpt = False,
    output_format: Annotated[
        Format, typer.Option("--format", help="human, or markdown for a pull-request comment.")
    ] = Format.human,
    show_all: Annotated[
        bool, typer.Option("--show-all", help="List volatile-only and chunking-only pairs one by one.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Count volatile and chunking changes as differences (exit 1).")
    ] = False,
    list_volatile: Annotated[
        bool,
        typer.Option(
            "--list-volatile",
            help="Print the volatile fields in force (built in, plus [tool.fixtures.diff] volatile) and exit.",
        ),
    ] = False,
    pending: Annotated[
        bool,
        typer.Option("--pending", help="Compare the staged re-recordings (`rerecord --review`) with the files."),
    ] = False,
) -> None:
    """Compare recordings by meaning: assembled answers, tool calls, requests; ids and chunk boundaries apart.

    Pairs by path; the same recording stored elsewhere is one `moved` pair; then by test id and endpoint, then by
    test function and endpoint under other parameters (a re-record whose request changed is one changed pair).
    Exit 0 when nothing changed beyond volatile fields and chunking (`--strict` counts those), 1 when something
    did or a file could not be read (an `error` pair: the rest is still compared), 2 on bad usage or a revision
    that does not exist.
    """
    from llm_fixtures.pooling import collector_paused

    # A diff allocates much and leaves reference cycles behind (DeepDiff's levels): the cyclic garbage collector
    # stays off while the command runs, and is put back as it was (a test session calling it goes on as before).
    with collector_paused():
        _run(
            paths,
            git,
            as_json=as_json,
            output_format=output_format,
            show_all=show_all,
            strict=strict,
            list_volatile=list_volatile,
            pending=pending,
        )


def _run(
    paths: list[Path] | None,
    git: str | None,
    *,
    as_json: bool,
    output_format: Format,
    show_all: bool,
    strict: bool,
    list_volatile: bool,
    pending: bool = False,
) -> None:
    with handle_errors():
        from llm_fixtures.diffing.running import diff_from_arguments
        from llm_fixtures.diffing.sides import volatility_of

        if list_volatile:
            from llm_fixtures.render.console import write_lines

            write_lines(volatility_of(load_project()).describe())
            return

        if pending:
            # The staged set's own tree pair (rerecording/pendingdiff.py); paths narrow it as test ids or targets.
            from llm_fixtures.rerecording.pendingdiff import pending_diff

            if git:
                raise UsageError("--pending compares the staged recordings with the files; it takes no --git")
            result = pending_diff(load_project(), [str(path) for path in paths or []])
        else:
            result = diff_from_arguments(paths or [], git, load_project(), Path.cwd(), identify_unchanged=as_json)
        if as_json:
            echo_json_lines(result.reports)
        elif output_format is Format.markdown:
            from llm_fixtures.render.diff import print_markdown, render_markdown

            print_markdown(render_markdown(result.reports, result.old_label, result.new_label, show_all=show_all))
        else:
            from llm_fixtures.render.diff import render_human

            render_human(result.reports, result.old_label, result.new_label, show_all=show_all)
        errors = [report for report in result.reports if report.status == "error"]
        for report in errors:
            warn(f"error: {report.details.problem}")
        note_skipped(result.skipped)
    # A file that cannot be read is a finding, as in every command: the others were compared.
    if errors or any(report.meaningful or (strict and report.changes) for report in result.reports):
        raise typer.Exit(1)
