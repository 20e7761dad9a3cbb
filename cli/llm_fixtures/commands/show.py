"""`fixtures show`: what a recording sent and got; `--assemble`: the final message its stream folds into."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llm_fixtures.commands.common import JsonOpt, echo_json_lines, handle_errors, report_problems
from llm_fixtures.config import load_project
from llm_fixtures.errors import BadRecording, UsageError

RefsArg = Annotated[
    list[str],
    typer.Argument(
        help="Recordings: a path, a hash or a unique hash prefix (6+ hex digits), or a pytest node id "
        "(every recording of that test).",
        show_default=False,
        metavar="REF",
    ),
]


def run(
    refs: RefsArg,
    *,
    assemble: Annotated[
        bool, typer.Option("--assemble", help="Print the final message the recorded stream folds into.")
    ] = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print each file as stored.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show what a recording sent (parameters, tools, the conversation) and got (status, chunks, usage).

    With --assemble, fold the stored stream (chat completions, completions, Responses, Anthropic, Ollama,
    Gemini, raw .sse) into its final message; a non-stream body gives the same shape. With --json, one JSON
    object per recording. A reference that matches nothing exits 2; an unreadable file is reported and the
    others shown (exit 1).
    """
    with handle_errors():
        if raw and (assemble or as_json):
            raise UsageError("--raw prints files as stored; it cannot be combined with --assemble or --json")
        if raw:
            from llm_fixtures.resolving import resolve_refs

            unreadable: list[BadRecording] = []
            _print_raw(resolve_refs(refs, load_project(), problems=unreadable))
            if report_problems(unreadable):
                raise typer.Exit(1)
            return
        from llm_fixtures.showing import select_targets

        targets = select_targets(refs, load_project())
        if assemble and as_json:
            echo_json_lines(targets.json_lines())
        elif assemble:
            from llm_fixtures.render.show import render_assembled

            render_assembled(folded.titled() for folded in targets.folded())
        elif as_json:
            echo_json_lines(view.model_dump(mode="python") for view in targets.views())
        else:
            from llm_fixtures.render.show import render_shown

            render_shown(targets.views())
        problems = targets.problems
        if targets.cassettes:
            problems = [*problems, *_show_cassettes(targets.cassettes, assemble=assemble, as_json=as_json)]
        bad = report_problems(problems)
    if bad:
        raise typer.Exit(1)


def _show_cassettes(paths: list[str], *, assemble: bool, as_json: bool) -> list[BadRecording]:
    """Cassettes: per interaction what a recording gets (`--assemble`: its answer; `--json`: one object per
    interaction with `path` and `interaction`), and the frames of WebSocket cassettes."""
    from dataclasses import asdict

    from llm_fixtures.cassettes.showing import show_cassettes

    done = show_cassettes(paths, assemble=assemble)
    if as_json:
        echo_json_lines(
            {"path": path, "interaction": index, **result, "warnings": warnings}
            for path, index, _kind, result, warnings in done.assembled
        )
        echo_json_lines({**item.model_dump(mode="python"), "interaction": index} for _path, index, item in done.shown)
        echo_json_lines(asdict(view) for view in done.messages)
        return list(done.problems)
    if done.assembled:
        from llm_fixtures.assembling.final import final_message
        from llm_fixtures.render.show import render_assembled

        render_assembled(
            [
                (f"{path} · interaction {index}", final_message(kind, result, warnings))
                for path, index, kind, result, warnings in done.assembled
            ]
        )
    if done.shown:
        from llm_fixtures.render.show import render_shown

        for path, index, item in done.shown:
            item.path = f"{path} · interaction {index}"
        render_shown([item for _path, _index, item in done.shown])
    if done.messages:
        from llm_fixtures.render.cassettes import render_messages

        render_messages(done.messages)
    return list(done.problems)


def _print_raw(paths: list[Path]) -> None:
    """Each file exactly as stored: the one output that is not made safe (`--raw` asks for the bytes)."""
    from llm_fixtures.render.console import write_raw

    for number, path in enumerate(paths):
        if len(paths) > 1:
            write_raw(f"{'' if number == 0 else chr(10)}==> {path} <==\n".encode())
        try:
            write_raw(path.read_bytes())
        except OSError as exc:
            raise BadRecording(path, exc.strerror or str(exc)) from None
