"""`fixtures normalize`: apply the upstream response normalization to recordings (responses only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from llm_fixtures.commands.common import JsonOpt, PathsArg, echo_json_lines, handle_errors, report_problems


@dataclass
class Normalized:
    """One file whose response changes (`written` once applied), with the fields that change. A dataclass,
    not a pydantic model: this module is imported when the app starts."""

    path: str
    changes: list[str] = field(default_factory=list)
    written: bool = False


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
    json: JsonOpt = False,
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
        from llm_fixtures.checking.writes import ensure_writable
        from llm_fixtures.commands.check import note_skipped
        from llm_fixtures.config import load_project
        from llm_fixtures.discovery import display_path, select_files
        from llm_fixtures.errors import BadRecording
        from llm_fixtures.facts import hash_of_name
        from llm_fixtures.normalizing import normalize_response
        from llm_fixtures.store import check_recording, dump_upstream, is_foreign, parse_json, read_bytes, write_atomic

        project = load_project()
        selection = select_files(paths, project)
        problems = list(selection.problems)
        base = Path.cwd()
        rows: list[Normalized] = []
        pending: list[tuple[Normalized, Path, bytes]] = []
        skipped: list[str] = []
        total = 0
        for path in selection.files:
            shown = display_path(path, base)
            try:
                raw = parse_json(read_bytes(path), shown)
                if is_foreign(raw, str(path)):
                    skipped.append(shown)
                    continue
                check_recording(raw, shown)
                new, changes = normalize_response(raw, hash_of_name(path.name))
                data = dump_upstream(new) if changes else b""
            except BadRecording as exc:
                problems.append(exc)
                continue
            except RecursionError:
                problems.append(BadRecording(shown, "not a recording: nested too deeply"))
                continue
            total += 1
            if changes:
                row = Normalized(path=shown, changes=changes)
                rows.append(row)
                pending.append((row, path, data))
        if selection.cassettes:
            from llm_fixtures.cassettes.leaks import SECRET_HEADERS
            from llm_fixtures.cassettes.scrubbing import describe_scrub, scrub_files
            from llm_fixtures.checking.secrets import Allowlist

            allowed = tuple(project.settings.check.allow_secrets) if "check" in project.table else ()
            scrubbed, unscrubbed = scrub_files(
                selection.cassettes, Allowlist(allowed), drop=SECRET_HEADERS if drop else frozenset(), base=str(base)
            )
            problems.extend(unscrubbed)
            total += len(selection.cassettes)
            for shown, name, result in scrubbed:
                row = Normalized(path=shown, changes=describe_scrub(result))
                rows.append(row)
                pending.append((row, Path(name), result.after or b""))
        if write:
            ensure_writable([(path, path) for _, path, _ in pending])
            for row, path, data in pending:
                write_atomic(path, data)
                row.written = True
        if json:
            echo_json_lines(rows)
        else:
            from llm_fixtures.render.check import render_normalize

            render_normalize([(row.path, row.changes) for row in rows], write=write, total=total)
        note_skipped(skipped)
        bad = report_problems(problems)
    if bad or (rows and not write):
        raise typer.Exit(1)
