"""`fixtures check`: lint recordings (hashes, placement, normalization, secrets, schema, duplicates, size)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from llm_fixtures.commands.common import JsonOpt, PathsArg, echo_json_lines, handle_errors, warn
from llm_fixtures.errors import UsageError
from llm_fixtures.humanizing import plural

if TYPE_CHECKING:
    from llm_fixtures.checking import FileReport


class FailOn(StrEnum):
    info = "info"
    warning = "warning"
    error = "error"


CHECKS_HELP = "hash, place, normalization, secrets, schema, duplicates, size"


def parse_checks(values: Sequence[str] | None, option: str) -> set[str]:
    """Check names from repeated and/or comma-separated option values; an unknown name is a usage error."""
    from llm_fixtures.checking import CHECK_NAMES

    names = {part.strip() for value in values or () for part in value.split(",") if part.strip()}
    unknown = sorted(names - set(CHECK_NAMES))
    if unknown:
        raise typer.BadParameter(f"unknown check {', '.join(unknown)}; choose from {CHECKS_HELP}", param_hint=option)
    return names


def run(
    paths: PathsArg = None,
    *,
    select: Annotated[
        list[str] | None, typer.Option("--select", help=f"Only these checks (comma-separated): {CHECKS_HELP}.")
    ] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these checks (comma-separated).")] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity.")
    ] = FailOn.error,
    all_: Annotated[bool, typer.Option("--all", help="Also report every file whose name is ok (hash check).")] = False,
    show_info: Annotated[
        bool,
        typer.Option("--show-info", help="List info findings (duplicates) too; by default they are only counted."),
    ] = False,
    rename: Annotated[
        bool, typer.Option("--rename", help="Preview renaming stale and mismatched files to their current name.")
    ] = False,
    write: Annotated[bool, typer.Option("--write", help="With --rename: apply the renames.")] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Check every file again, ignoring the results of earlier runs.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Lint recordings: names that no longer follow from their content, misplaced files, unnormalized
    responses, leaked secrets, broken files, duplicated requests and oversized files.

    Exit 0 when clean, 1 when a finding is at or above --fail-on (default: error), 2 on bad usage.
    --rename previews the current name of each stale or mismatched file; --rename --write renames them,
    never over an existing file.
    """
    with handle_errors():
        from llm_fixtures.caching import cache_file
        from llm_fixtures.checking import CHECK_NAMES, CheckOptions, at_least, collect_findings, is_ok, summarize
        from llm_fixtures.config import load_project
        from llm_fixtures.discovery import display_path, select_files
        from llm_fixtures.linting import check_files

        if write and not rename:
            raise UsageError("--write only applies with --rename (to normalize files, use `fixtures normalize`)")
        chosen = parse_checks(select, "--select") or set(CHECK_NAMES)
        chosen -= parse_checks(ignore, "--ignore")
        if rename:
            chosen = {"hash"}
        project = load_project()
        options = CheckOptions(checks=frozenset(chosen))  # the defaults of [tool.fixtures.check]
        if "check" in project.table:  # validated (pydantic) only when the project sets something
            settings = project.settings.check
            options = CheckOptions(
                checks=frozenset(chosen),
                allow_secrets=tuple(settings.allow_secrets),
                max_file_bytes=settings.max_file_bytes,
                max_image_bytes=settings.max_image_bytes,
            )
        selection = select_files(paths, project)
        # Plain strings, as the selection holds them (already in the form Path gives them): thousands of Path
        # objects cost more than a warm run. Absolute as Path.absolute makes them: the working folder joined.
        cwd = os.getcwd()  # noqa: PTH109
        locations = {display_path(name, cwd): name for name in selection.names}
        jobs = [(shown, os.path.join(cwd, name)) for shown, name in locations.items()]  # noqa: PTH118
        cache = None if no_cache else cache_file("check", project.root)
        reports = check_files(jobs, options, cache=cache, complete=not paths)
        if rename:
            _rename(reports, {shown: Path(name) for shown, name in locations.items()}, write=write, as_json=as_json)
            return
        findings = collect_findings(reports, selection.problems, chosen)
        checked = sum(not report.skipped for report in reports)
        if selection.cassettes:
            from llm_fixtures.cassettes.linting import check_cassette_files

            more, count = check_cassette_files(
                selection.cassettes,
                options,
                base=cwd,
                cache=None if no_cache else cache_file("check-cassettes", project.root),
                complete=not paths,
            )
            findings = sorted([*findings, *more], key=lambda finding: (finding.path, finding.check))
            checked += count
        shown = [finding for finding in findings if all_ or not is_ok(finding)]
        if as_json:
            echo_json_lines(shown)
        else:
            from llm_fixtures.render.check import render_findings

            render_findings(
                shown,
                summarize(findings),
                files=checked,
                show_info=show_info or all_ or fail_on is FailOn.info,
            )
        failing = any(at_least(finding, fail_on.value) and not is_ok(finding) for finding in findings)
        note_skipped([report.path for report in reports if report.skipped])
    if failing:
        raise typer.Exit(1)


def note_skipped(skipped: Sequence[str]) -> None:
    """One note on stderr for the JSON files that were skipped as not recordings."""
    if skipped:
        what = "is not a recording" if len(skipped) == 1 else "are not recordings"
        warn(f"note: skipped {plural(len(skipped), 'JSON file')} that {what} (e.g. {skipped[0]})")


def _rename(reports: Sequence[FileReport], locations: dict[str, Path], *, write: bool, as_json: bool) -> None:
    from llm_fixtures.checking.renames import plan_renames
    from llm_fixtures.writing import ensure_writable, rename_file

    plan = plan_renames(reports, locations, Path.exists)
    todo = [(source, target) for row, source, target in plan if row.status == "pending"]
    if write:
        ensure_writable(todo)
        for row, source, target in plan:
            if row.status == "pending":
                rename_file(source, target)
                row.status = "renamed"
    rows = [row for row, _, _ in plan]
    if as_json:
        echo_json_lines(rows)
    else:
        from llm_fixtures.render.check import render_renames

        render_renames(rows, write=write)
    if any(row.status != "renamed" for row in rows):
        raise typer.Exit(1)
