"""`fixtures prune`: find orphaned recordings, say why each is one, and remove them reversibly."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from llm_fixtures.commands.common import JsonOpt, PathsArg, echo_json_lines, handle_errors, warn
from llm_fixtures.config import load_project
from llm_fixtures.errors import UsageError
from llm_fixtures.humanizing import plural


def stdin_is_terminal() -> bool:
    """Whether a question can be asked (never block on a pipe)."""
    return sys.stdin.isatty()


def run(
    paths: PathsArg = None,
    *,
    collect: Annotated[
        bool,
        typer.Option(
            "--collect",
            help="Also orphan tests that real `pytest --collect-only -q` runs no longer list (exact "
            "parametrized ids; the runs are `[tool.fixtures.prune] collect`, cached).",
        ),
    ] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Run the collection even when it is cached.")] = False,
    unused_from: Annotated[
        list[Path] | None,
        typer.Option(
            "--unused-from",
            metavar="MANIFEST",
            help="Also orphan recordings of tests that passed without reading them, from the manifest of a "
            "replay run with `pytest -p llm_fixtures.usage` (repeatable); for VCR cassettes, with `pytest -p "
            "llm_fixtures.cassettes.usage` (cassettes a passing test never loaded; unplayed interactions noted).",
        ),
    ] = None,
    unreachable: Annotated[
        bool, typer.Option("--unreachable", help="Also orphan files whose name replay can never look up.")
    ] = False,
    include_shared: Annotated[
        bool,
        typer.Option(
            "--include-shared",
            help="Let --unused-from (in folders the run read from) and --unreachable judge recordings without "
            "a test id too.",
        ),
    ] = False,
    delete: Annotated[
        bool, typer.Option("--delete", help="Remove the orphans (reversibly; asks first in a terminal).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --delete.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when there are orphans (for CI).")] = False,
    restore: Annotated[
        bool, typer.Option("--restore", help="Put back the recordings the last --delete removed.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Find orphaned recordings: their test file, function or class is gone (static, from the syntax tree;
    always), and with the flags also tests no longer collected, superseded files and unreachable names.

    Lists by default. Exit 1 with --check when there are orphans, and whenever a recording could not be read
    (it is reported and left alone); 2 on failure. --delete removes the orphans reversibly: a file git can
    restore is deleted, any other goes to a trash folder; --restore puts the last batch back.
    """
    with handle_errors():
        project = load_project()
        if restore:
            from llm_fixtures.trashing import restore_last

            restored = restore_last(project.root)
            if as_json:
                echo_json_lines({"path": str(path)} for path in restored)
            else:
                from llm_fixtures.render.prune import render_restored

                render_restored(restored, Path.cwd())
            return
        if include_shared and not (unused_from or unreachable):
            warn("note: --include-shared matters only with --unused-from or --unreachable (no test to look at)")
        if delete and not yes and not stdin_is_terminal():
            raise UsageError("--delete asks first, and there is no terminal to ask in: add --yes")
        from llm_fixtures.orphaning import Evidence, find_orphans

        evidence = Evidence(collect, refresh, tuple(unused_from or ()), unreachable, include_shared)
        plan, problems, tiers = find_orphans(paths, project, evidence, base=Path.cwd())
        from llm_fixtures.render.prune import next_command, render_left_alone, render_plan, render_removed

        if as_json:
            echo_json_lines(plan.orphans)
        else:
            render_plan(plan, next_command=None if delete else next_command(paths, evidence))
        render_left_alone(plan, problems)
        if tiers is not None:
            from llm_fixtures.render.cassettes import render_tiers

            render_tiers(tiers)
        if delete and plan.orphans:
            if not yes and not typer.confirm(
                f"Remove {plural(len(plan.orphans), 'orphaned recording')}?", default=False, err=True
            ):
                warn("nothing deleted")
            else:
                from llm_fixtures.orphaning import remove_orphans

                removal = remove_orphans(plan, project, base=Path.cwd())
                for path, reason in removal.refused.items():
                    warn(f"not removed: {path}: {reason}")
                render_removed(removal.batch)
                problems += [f"{path}: {reason}" for path, reason in removal.refused.items()]
        if (check and plan.orphans) or problems:
            raise typer.Exit(1)
