"""Stream assembly: fold the recorded chunks or events of a response into its final message (ASSEMBLY.md).

Pure: takes a response body (or raw `.sse` text), returns an `Assembly`; never raises on bad input, it warns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llm_fixtures.assembling import (
    anthropic,
    chat,
    completions,
    gemini,
    interactions,
    ollama,
    responses,
    sse,
)
from llm_fixtures.assembling.items import Item, Stream, classify, from_body, from_events

if TYPE_CHECKING:
    from llm_fixtures.assembling.model import Assembly

__all__ = ["Assembly", "assemble", "assemble_sse", "comparable", "fold_body"]

Fold = Callable[[list[Item]], tuple[dict[str, Any], list[str]]]

_FOLDS: dict[str, Fold] = {
    "chat": chat.fold,
    "completions": completions.fold,
    "responses": responses.fold,
    "anthropic": anthropic.fold,
    "gemini": gemini.fold,
    "gemini.interactions": interactions.fold,
    "ollama.chat": lambda items: ollama.fold(items, ollama.CHAT),
    "ollama.generate": lambda items: ollama.fold(items, ollama.GENERATE),
}

# Keys that say how a result was obtained rather than what it says: a stream and its non-stream twin differ here.
BOOKKEEPING_KEYS = frozenset({"n_items", "terminal_event", "final_source"})


def __getattr__(name: str) -> Any:
    """`Assembly` is a pydantic model, built on first use: `fixtures diff` folds bodies without it."""
    if name == "Assembly":
        from llm_fixtures.assembling.model import Assembly

        return Assembly
    raise AttributeError(name)


@dataclass(slots=True)
class _Folded:
    """What `Assembly` holds, without the model."""

    kind: str
    result: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _nothing(kind: str, warning: str, earlier: list[str] | None = None) -> _Folded:
    return _Folded(kind=kind, result={"kind": kind, "n_items": 0}, warnings=[*(earlier or []), warning])


def _describe_body(body: Any) -> str:
    if isinstance(body, list) and body:
        return f"a list of {_describe_body(body[0]).removeprefix('a ')}"
    if isinstance(body, dict):
        type_name = body.get("__type__")
        if isinstance(type_name, str):
            return type_name.rsplit(".", 1)[-1]
        return "a JSON object"
    return f"a JSON {type(body).__name__}"


def _assemble_stream(stream: Stream, body: Any) -> _Folded:
    family = classify(stream)
    if family is None:
        errors = [item for item in stream.items if item.error is not None]
        if errors:
            first = errors[0]
            kind = "error"
            result = {"kind": kind, "n_items": 0, "stream_error": {"at_item": 0, "error": first.error}}
            return _Folded(
                kind=kind, result=result, warnings=[*stream.warnings, "the response is an error, not a message"]
            )
        if not stream.items:
            return _nothing("empty", "empty stream: nothing to assemble", stream.warnings)
        return _nothing(
            "unknown", f"nothing to assemble: body is {_describe_body(body)}, not a known stream", stream.warnings
        )
    result, warnings = _FOLDS[family](stream.items)
    return _Folded(kind=str(result["kind"]), result=result, warnings=[*stream.warnings, *warnings])


def _as_assembly(folded: _Folded) -> Assembly:
    from llm_fixtures.assembling.model import Assembly

    return Assembly(kind=folded.kind, result=folded.result, warnings=folded.warnings)


def assemble(body: Any, *, is_streaming: bool) -> Assembly:
    """The final message of a stored response body: a stream (list of envelopes, dicts or SSE lines) or a
    non-stream body (ChatCompletion, Completion, Ollama, Anthropic, Gemini, Responses), which gives the same
    shape so that a stream and its non-stream twin compare equal. Dispatch is on `__type__` or the payload."""
    return _as_assembly(_fold_body(body, is_streaming=is_streaming))


def fold_body(body: Any, *, is_streaming: bool) -> tuple[str, dict[str, Any], list[str]]:
    """`assemble`, as `(kind, result, warnings)`: no pydantic model built (nor imported)."""
    folded = _fold_body(body, is_streaming=is_streaming)
    return folded.kind, folded.result, folded.warnings


def _fold_body(body: Any, *, is_streaming: bool) -> _Folded:
    if body is None:
        return _nothing("none", "no response body")
    try:
        stream = from_body(body)
        assembly = _assemble_stream(stream, body)
    except RecursionError:
        return _nothing("unknown", "body is nested too deeply to assemble")
    streamed_body = isinstance(body, list | str)
    if is_streaming and not streamed_body:
        assembly.warnings.insert(0, "response is marked streaming but its body is not a stream")
    return assembly


def assemble_sse(text: str) -> Assembly:
    """The final message of a raw event-stream capture (a `.sse` file)."""
    stream = from_events(sse.parse_text(text))
    if not stream.items:
        return _as_assembly(_nothing("empty", "empty stream: no data event"))
    return _as_assembly(_assemble_stream(stream, text))


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """A result without its bookkeeping keys, for comparing a stream with its non-stream twin."""
    return {key: value for key, value in result.items() if key not in BOOKKEEPING_KEYS}
