"""`fixtures show`: what a recording sent and got; `--assemble`: the final message its stream folds into."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llm_fixtures.commands.common import JsonOpt, echo_json_lines, handle_errors, report_problems
from llm_fixtures.config import load_project
from llm_fixtures.errors import BadRecording, UsageError

if TYPE_CHECKING:
    from llm_fixtures.assembling import Assembly
    from llm_fixtures.conversation import Shown
    from llm_fixtures.decoding import Loaded

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
    json: JsonOpt = False,
) -> None:
    """Show what a recording sent (parameters, tools, the conversation) and got (status, chunks, usage).

    With --assemble, fold the stored stream (chat completions, completions, Responses, Anthropic, Ollama,
    Gemini, raw .sse) into its final message; a non-stream body gives the same shape. With --json, one JSON
    object per recording. A reference that matches nothing exits 2; an unreadable file is reported and the
    others shown (exit 1).
    """
    with handle_errors():
        if raw and (assemble or json):
            raise UsageError("--raw prints files as stored; it cannot be combined with --assemble or --json")
        from llm_fixtures.resolving import resolve_refs

        unreadable: list[BadRecording] = []
        paths = resolve_refs(refs, load_project(), problems=unreadable)
        if raw:
            _print_raw(paths)
            if report_problems(unreadable):
                raise typer.Exit(1)
            return
        from llm_fixtures.discovery import is_cassette_name

        cassettes = [str(path) for path in paths if is_cassette_name(str(path))]
        paths = [path for path in paths if not is_cassette_name(str(path))]
        if assemble:
            assembled, problems = _assemble_paths(paths)
            if json:
                echo_json_lines({"path": path, **a.result, "warnings": a.warnings} for path, a in assembled)
            else:
                from llm_fixtures.assembling.final import final_message
                from llm_fixtures.render.show import render_assembled

                render_assembled([(path, final_message(a.kind, a.result, a.warnings)) for path, a in assembled])
        else:
            shown, problems = _show_paths(paths)
            if json:
                echo_json_lines(item.model_dump(mode="python") for item in shown)
            else:
                from llm_fixtures.render.show import render_shown

                render_shown(shown)
        if cassettes:
            problems = [*problems, *_show_cassettes(cassettes, assemble=assemble, json=json)]
        bad = report_problems([*unreadable, *problems])
    if bad:
        raise typer.Exit(1)


def _show_cassettes(paths: list[str], *, assemble: bool, json: bool) -> list[BadRecording]:
    """Cassettes: per interaction what a recording gets (`--assemble`: its answer; `--json`: one object per
    interaction with `path` and `interaction`), and the frames of WebSocket cassettes."""
    from dataclasses import asdict

    from llm_fixtures.cassettes.showing import show_cassettes

    done = show_cassettes(paths, assemble=assemble)
    if json:
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


def _load(path: Path) -> tuple[Loaded | None, Assembly]:
    """A recording (None for a raw `.sse` capture) and the assembly of its body."""
    from llm_fixtures.assembling import assemble, assemble_sse
    from llm_fixtures.store import load_recording, read_bytes

    if path.suffix == ".sse":
        text = read_bytes(path).decode("utf-8", errors="replace")
        return None, assemble_sse(text)
    loaded = load_recording(path)
    response = loaded.file.response
    return loaded, assemble(response.body, is_streaming=response.is_streaming)


def _assemble_path(path: Path) -> Assembly:
    """The assembly of one file, read without building its models (only the response body is needed)."""
    from llm_fixtures.assembling import assemble, assemble_sse
    from llm_fixtures.decoding import parse_json, validate_recording
    from llm_fixtures.store import read_bytes

    data = read_bytes(path)
    if path.suffix == ".sse":
        return assemble_sse(data.decode("utf-8", errors="replace"))
    raw = parse_json(data, path)
    response = raw.get("response") if isinstance(raw, dict) else None
    if not isinstance(response, dict) or "request" not in raw:
        validate_recording(raw, path)  # raises BadRecording saying what is wrong
        response = raw["response"]
    return assemble(response.get("body"), is_streaming=response.get("is_streaming") is True)


# Below this many files, a process pool costs more than it saves (as for the facts catalog).
PARALLEL_THRESHOLD = 200
FoldedFile = tuple[str, str, "dict[str, Any] | str", list[str]]  # (path, kind or "bad", result or reason, warnings)


def _assemble_chunk(paths: list[str]) -> list[FoldedFile]:
    assembled_files: list[FoldedFile] = []
    for name in paths:
        try:
            assembly = _assemble_path(Path(name))
        except BadRecording as problem:
            assembled_files.append((name, "bad", problem.reason, []))
            continue
        except (ValueError, RecursionError) as exc:
            assembled_files.append((name, "bad", _why(exc), []))
            continue
        assembled_files.append((name, assembly.kind, assembly.result, assembly.warnings))
    return assembled_files


def _assemble_paths(paths: list[Path]) -> tuple[list[tuple[str, Assembly]], list[BadRecording]]:
    """Every file's assembly, in order; parsing and folding spread over processes for many files."""
    from llm_fixtures.assembling import Assembly

    names = [str(path) for path in paths]
    jobs = min(4, os.cpu_count() or 1)
    if jobs <= 1 or len(names) < PARALLEL_THRESHOLD:
        assembled_files = _assemble_chunk(names)
    else:
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, len(names) // (jobs * 4))
        chunks = [names[i : i + size] for i in range(0, len(names), size)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            assembled_files = [one for part in pool.map(_assemble_chunk, chunks) for one in part]
    done: list[tuple[str, Assembly]] = []
    problems: list[BadRecording] = []
    for name, kind, result, warnings in assembled_files:
        if isinstance(result, str):
            problems.append(BadRecording(name, result))
        else:
            done.append((name, Assembly.model_construct(kind=kind, result=result, warnings=warnings)))
    return done, problems


def _show_paths(paths: list[Path]) -> tuple[list[Shown], list[BadRecording]]:
    from llm_fixtures.conversation import show_recording, show_sse

    shown: list[Shown] = []
    problems: list[BadRecording] = []
    for path in paths:
        try:
            loaded, assembly = _load(path)
        except BadRecording as problem:
            problems.append(problem)
            continue
        except (ValueError, RecursionError) as exc:
            problems.append(BadRecording(path, _why(exc)))
            continue
        if loaded is None:
            shown.append(show_sse(str(path), assembly))
        else:
            shown.append(show_recording(str(path), loaded.file, loaded.facts, assembly))
    return shown, problems


def _why(exc: ValueError | RecursionError) -> str:
    """What a parser that gave up on a file says (an integer past Python's conversion limit, nesting too deep)."""
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply"
    return f"invalid JSON: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


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
