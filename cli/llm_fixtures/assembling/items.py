"""A response body turned into the ordered items of a stream, and the stream family they belong to."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from llm_fixtures.assembling import sse
from llm_fixtures.envelopes import parse_envelope

ANTHROPIC_EVENTS = frozenset(
    {
        "message_start",
        "message_delta",
        "message_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "ping",
    }
)

Family = str  # "chat", "completions", "responses", "anthropic", "ollama.chat", "ollama.generate", "gemini", ...


@dataclass(slots=True)
class Item:
    """One stream item: the `__type__` it was stored under (if any), its payload, and the error object when the
    item reports a failed stream (an `error` event or a truthy `error` key)."""

    type_name: str | None
    payload: Any
    error: Any = None


@dataclass(slots=True)
class Stream:
    items: list[Item] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # lone surrogates: orjson refuses them, the standard library keeps them


def _error_of(name: str, payload: Any) -> Any:
    if isinstance(payload, dict) and payload.get("error"):
        return payload["error"]
    if name == "error":
        return payload if payload not in (None, "") else {"message": "error event"}
    return None


def from_events(events: list[sse.Event]) -> Stream:
    """Items of parsed SSE events: `[DONE]` ends the stream; data that is not JSON is reported and skipped."""
    stream = Stream()
    for number, event in enumerate(events, 1):
        if event.data.strip() == "[DONE]":
            break
        try:
            payload = _loads(event.data)
        except (json.JSONDecodeError, RecursionError):
            stream.warnings.append(f"event {number}: data is not JSON; skipped")
            continue
        stream.items.append(Item(None, payload, _error_of(event.name, payload)))
    return stream


def from_body(body: Any) -> Stream:
    """Items of a stored stream body: a list of envelopes, of plain dicts, or of raw SSE lines."""
    if isinstance(body, str):
        return from_events(sse.parse_text(body))
    if not isinstance(body, list):
        body = [body]
    if body and all(isinstance(line, str) for line in body):
        if sse.looks_like_sse(body):
            return from_events(sse.parse_lines(body))
        return Stream(warnings=["body is a list of strings that are not event-stream lines"])
    stream = Stream()
    append = stream.items.append
    for item in body:
        # parse_envelope and _error_of, inlined: this loop runs once per chunk of every stream
        if type(item) is dict and "__type__" in item and "__data__" in item:
            type_name = item["__type__"]
            payload = item["__data__"]
            type_name = type_name if isinstance(type_name, str) else None
        elif isinstance(item, str):
            if item.strip():
                stream.warnings.append("body mixes text lines with objects; text lines skipped")
            continue
        else:
            type_name, payload = parse_envelope(item)
        error = payload.get("error") if type(payload) is dict else None
        append(Item(type_name, payload, error or None))
    return stream


def classify_one(item: Item) -> Family | None:
    """The family of one item, from its `__type__` or its payload; None when it says nothing."""
    name = item.type_name or ""
    if name:
        if "chat_completion_chunk" in name or name.endswith(".ChatCompletion"):
            return "chat"
        if name.startswith("openai.types.completion"):
            return "completions"
        if name.startswith("openai.types.responses."):
            return "responses"
        if name.startswith("ollama._types.ChatResponse"):
            return "ollama.chat"
        if name.startswith("ollama._types.GenerateResponse"):
            return "ollama.generate"
        if name.startswith("anthropic."):
            return "anthropic"
    payload = item.payload
    if not isinstance(payload, dict):
        return None
    obj = payload.get("object")
    kind = payload.get("type")
    if obj in ("chat.completion.chunk", "chat.completion"):
        return "chat"
    if obj == "text_completion":
        return "completions"
    if obj == "response" or (isinstance(kind, str) and kind.startswith("response.")):
        return "responses"
    if (isinstance(kind, str) and kind in ANTHROPIC_EVENTS) or (
        kind == "message" and "content" in payload and "role" in payload
    ):
        return "anthropic"
    if "candidates" in payload:
        return "gemini"
    if "event_type" in payload or (payload.get("object") == "interaction" and "outputs" in payload):
        return "gemini.interactions"
    if "done" in payload and isinstance(payload.get("message"), dict):
        return "ollama.chat"
    if "done" in payload and "response" in payload:
        return "ollama.generate"
    choices = payload.get("choices")
    if isinstance(choices, list):
        first = choices[0] if choices and isinstance(choices[0], dict) else {}
        if "text" in first:
            return "completions"
        return "chat"
    return None


def classify(stream: Stream) -> Family | None:
    """The family of a stream: that of its first item that says something (errors and pseudo-chunks skipped)."""
    for item in stream.items:
        if item.error is not None:
            continue
        family = classify_one(item)
        if family is not None:
            return family
    return None


def describe_error(error: Any) -> str:
    """A short one-line description of a stream error object."""
    if isinstance(error, str):
        return error[:200]
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str):
            return message
    return json.dumps(error, default=str)[:200]


@dataclass(slots=True)
class Walk:
    """The items of a stream up to its first error: the payloads that are objects, with their positions;
    `count` items were read before the error (the `n_items` of the result)."""

    payloads: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    count: int = 0
    stream_error: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def head(self, kind: str) -> dict[str, Any]:
        """The first keys of a result: kind, n_items and, when an error ended the stream, stream_error."""
        result: dict[str, Any] = {"kind": kind, "n_items": self.count}
        if self.stream_error is not None:
            result["stream_error"] = self.stream_error
        return result


def walk(items: list[Item], is_error: Callable[[dict[str, Any]], bool] | None = None) -> Walk:
    """Read items until an error item (or one `is_error` says is an error); skip and report non-objects."""
    done = Walk()
    append = done.payloads.append  # once per item of every stream: locals, not attribute lookups
    count = 0
    for position, item in enumerate(items):
        payload = item.payload
        error = item.error
        if error is None and is_error is not None and isinstance(payload, dict) and is_error(payload):
            error = payload
        if error is not None:
            done.stream_error = {"at_item": position, "error": error}
            done.warnings.append(f"stream error at item {position}: {describe_error(error)}")
            break
        count += 1
        if isinstance(payload, dict):
            append((position, payload))
        else:
            done.warnings.append(f"item {position}: not an object; skipped")
    done.count = count
    return done
