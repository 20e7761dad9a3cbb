"""What every command shares: option aliases, error handling, JSON Lines output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from llm_fixtures.errors import BadRecording, FixtureError
from llm_fixtures.filtering import Filters

KINDS = ("inference", "http", "tool", "file-processor")

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(help="Recording files or folders. Default: every `recordings` folder of the project."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON Lines on stdout, one object per item.")]


@contextmanager
def handle_errors() -> Iterator[None]:
    """Turn a FixtureError into `error: ...` on stderr and exit 2; anything else is a bug and raises."""
    try:
        yield
    except FixtureError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


def warn(message: str) -> None:
    """One line on stderr."""
    typer.echo(message, err=True)


def echo_json_lines(items: Iterable[Any]) -> None:
    """JSON Lines on stdout (never through rich, which wraps and eats markup). Items are pydantic models
    (`model_dump_json`), objects that dump themselves (`to_json`, bytes), or dataclasses and plain JSON values
    (orjson)."""
    dumpers: dict[type, Callable[[Any], str]] = {}
    lines = []
    for item in items:
        kind = type(item)
        dump = dumpers.get(kind)
        if dump is None:
            dump = dumpers[kind] = _dumper(kind)
        lines.append(dump(item))
    out = sys.stdout
    if lines:
        out.write("\n".join(lines))
        out.write("\n")
    out.flush()


def _dumper(kind: type) -> Callable[[Any], str]:
    """How items of a type become one JSON line (decided once per type: thousands of items share one)."""
    if hasattr(kind, "model_dump_json"):
        return lambda item: str(item.model_dump_json())
    if hasattr(kind, "to_json"):
        return lambda item: bytes(item.to_json()).decode()
    return lambda item: orjson.dumps(item).decode()


# The filters of `ls`, shared by every command that selects recordings.
TestOpt = Annotated[
    str | None,
    typer.Option("--test", help="Test id substring, or a glob with * and ? (brackets are literal)."),
]
EndpointOpt = Annotated[str | None, typer.Option("--endpoint", help="Endpoint substring, e.g. /v1/chat.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model substring.")]
ProviderOpt = Annotated[
    str | None,
    typer.Option("--provider", help="Provider: openai, azure, ollama, vllm, bedrock, watsonx, ..."),
]
KindOpt = Annotated[str | None, typer.Option("--kind", help="Kind of request: inference, http, tool, file-processor.")]
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
    kind: str | None,
    stream: bool | None,
    errors: bool,
) -> Filters:
    """The Filters model from the shared options; a bad `--kind` is a usage error."""
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"{kind!r} is not one of {', '.join(KINDS)}", param_hint="--kind")
    return Filters(
        test=test,
        endpoint=endpoint,
        model=model,
        provider=provider,
        kind=kind,  # type: ignore[arg-type]  # checked against KINDS above
        stream=stream,
        errors=errors,
    )


def report_problems(problems: Iterable[BadRecording]) -> int:
    """Each unreadable file as one `path: what is wrong` line on stderr; the count."""
    count = 0
    for problem in problems:
        typer.echo(str(problem), err=True)
        count += 1
    return count
