"""What every command shares: option aliases, error handling, the JSON Lines writer."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from llm_fixtures.errors import BadRecording, FixtureError
from llm_fixtures.filtering import Filters
from llm_fixtures.kinds import RequestKind
from llm_fixtures.render.console import reader_gone, write_line
from llm_fixtures.sanitizing import ProjectAllowlist, clean_json

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Recording files or folders. Default: every `recordings` folder of the project."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON Lines on stdout, one object per item.")]


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn a FixtureError into `error: ...` on stderr and exit 2; a reader that went away (`| head`) into a
    quiet exit 0; anything else is a bug and raises."""
    try:
        yield
    except FixtureError as exc:
        write_line(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:
        reader_gone()


def warn(message: str) -> None:
    """One line on stderr (made safe: a path or a file's words can hold control characters or secrets)."""
    write_line(message)


# JSON Lines: items are encoded a chunk at a time (at most 256 KB, or what came in 50 ms), each chunk made safe in
# one scan and written at once.
_CHUNK_BYTES, _CHUNK_SECONDS = 1 << 18, 0.05
# Below orjson's own limit: a deeper value is cut (and says so) rather than crash the writer.
_MAX_DEPTH = 200


def echo_json_lines(items: Iterable[Any]) -> None:
    """The JSON Lines writer of every command: one object per line on stdout, never through rich (which wraps
    and eats markup). Items are pydantic models, objects that give their plain values (`json_document()`) or
    dump themselves (`to_json()`, bytes), or dataclasses and plain JSON values (orjson). Secrets are masked
    inside their strings, DEL, C1 and bidirectional characters escaped (`sanitizing.clean_json`), the JSON
    staying valid. What orjson refuses (a lone surrogate, an integer beyond 64 bits, nesting deeper than it
    goes) is written by the standard library with ASCII escapes, never a crash."""
    allowlist = ProjectAllowlist()
    dumpers: dict[type, Callable[[Any], bytes]] = {}
    chunk: list[bytes] = []
    size = 0
    written = time.monotonic()
    for item in items:
        kind = type(item)
        dump = dumpers.get(kind)
        if dump is None:
            dump = dumpers[kind] = _dumper(kind)
        try:
            line = dump(item)
        except (TypeError, ValueError):  # orjson.JSONEncodeError and pydantic's serialization error included
            line = _fallback_json(item)
        chunk.append(line)
        size += len(line)
        # Written when the chunk is full, or when the lines in it have waited long enough: items that come from
        # worker processes come in bursts, and a reader (`| head`, a person) gets each burst as it comes.
        now = time.monotonic()
        if size >= _CHUNK_BYTES or now - written >= _CHUNK_SECONDS:
            _write_json_chunk(chunk, allowlist)
            chunk, size, written = [], 0, now
    _write_json_chunk(chunk, allowlist)


def _write_json_chunk(lines: list[bytes], allowlist: ProjectAllowlist) -> None:
    out = sys.stdout
    if lines:
        data = clean_json(b"\n".join(lines) + b"\n", allowlist)
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            out.flush()
            buffer.write(data)
        else:
            out.write(data.decode())
    out.flush()


def _dumper(kind: type) -> Callable[[Any], bytes]:
    """How items of a type become one JSON line (decided once per type: thousands of items share one)."""
    if hasattr(kind, "model_dump_json"):
        return lambda item: item.model_dump_json().encode()
    if hasattr(kind, "json_document"):  # an object that says which plain values stand for it
        return lambda item: orjson.dumps(item.json_document())
    if hasattr(kind, "to_json"):
        return lambda item: bytes(item.to_json())
    return orjson.dumps


def _fallback_json(item: Any) -> bytes:
    """One JSON line for what orjson or pydantic refuse: lone surrogates as `\\ud800` escapes, integers of any
    size, nesting cut at _MAX_DEPTH."""
    import json

    if hasattr(item, "model_dump"):
        value = item.model_dump(mode="python")
    elif hasattr(item, "json_document"):
        value = item.json_document()
    elif hasattr(item, "to_json"):
        value = orjson.loads(item.to_json())
    else:
        value = item
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # digits are what the file holds; writing them is not the risk the limit guards
    try:
        return json.dumps(_bounded(value, 0), ensure_ascii=True, separators=(",", ":"), default=str).encode()
    finally:
        sys.set_int_max_str_digits(limit)


def _bounded(value: Any, depth: int) -> Any:
    """`value` as plain JSON values (dataclasses as dicts), nesting below _MAX_DEPTH replaced by a note."""
    if depth >= _MAX_DEPTH:
        return "(nested too deep to print)"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): _bounded(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_bounded(item, depth + 1) for item in value]
    return value


# The filters of `ls`, shared by every command that selects recordings.
TestOpt = Annotated[
    str | None,
    typer.Option(
        "--test",
        help="Part of the test id: a substring, or a glob with * and ? that may match anywhere in the id "
        "(brackets are literal).",
    ),
]
EndpointOpt = Annotated[str | None, typer.Option("--endpoint", help="Endpoint substring, e.g. /v1/chat.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model substring.")]
ProviderOpt = Annotated[
    str | None,
    typer.Option("--provider", help="Provider: openai, azure, ollama, vllm, bedrock, watsonx, ..."),
]
KindOpt = Annotated[RequestKind | None, typer.Option("--kind", help="Kind of request.")]
StreamOpt = Annotated[
    bool | None,
    typer.Option("--stream/--no-stream", help="Only streaming, or only non-streaming recordings."),
]
ErrorsOpt = Annotated[bool, typer.Option("--errors", help="Only recordings of an error (exception or status >= 400).")]


def make_filters(
    test: str | None,
    endpoint: str | None,
    model: str | None,
    provider: str | None,
    kind: RequestKind | None,
    stream: bool | None,
    errors: bool,
) -> Filters:
    """The Filters model from the shared options."""
    return Filters(
        test=test,
        endpoint=endpoint,
        model=model,
        provider=provider,
        kind=kind,
        stream=stream,
        errors=errors,
    )


def report_problems(problems: Iterable[BadRecording]) -> int:
    """Each unreadable file as one `path: what is wrong` line on stderr; the count."""
    count = 0
    for problem in problems:
        write_line(str(problem))
        count += 1
    return count
