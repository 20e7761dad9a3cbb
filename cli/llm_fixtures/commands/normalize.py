"""`fixtures normalize`: apply the upstream response normalization to recordings (responses only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_fixtures.commands.common import JsonOpt, PathsArg, echo_json_lines, handle_errors, report_problems


def run(
    paths: PathsArg = None,
    *,
    write: Annotated[bool, typer.Option("--write", help="Apply the changes (default: preview only).")] = False,
    drop: Annotated[
        bool,
        typer.Option(
            "--drop",
            help="VCR cassettes: remove credential headers (authorization, api keys, cookies) "
            "instead of masking their values.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Normalize responses as the recorder does: ids become rec-<hash12>, `created` 0, Ollama timestamps
    and durations zero. Requests are never touched, so file names stay valid.

    VCR cassettes are scrubbed instead: secret headers, key-bearing query parameters and keys found in bodies
    are masked (REDACTED) by editing only those values, every other byte kept ([tool.fixtures.check]
    allow_secrets respected); --drop removes credential headers whole.

    Previews by default (exit 1 when some file would change); --write rewrites the files atomically in the
    upstream format, so the git diff shows only the normalized fields.
    """
    with handle_errors():
        from llm_fixtures.commands.check import note_skipped
        from llm_fixtures.config import load_project
        from llm_fixtures.normalizingfiles import normalize_files, write_normalized

        found = normalize_files(paths, load_project(), base=Path.cwd(), drop=drop)
        if write:
            write_normalized(found)
        if as_json:
            echo_json_lines(found.rows)
        else:
            from llm_fixtures.render.check import render_normalize

            render_normalize([(row.path, row.changes) for row in found.rows], write=write, total=found.total)
        note_skipped(found.skipped)
        bad = report_problems(found.problems)
    if bad or (found.rows and not write):
        raise typer.Exit(1)
