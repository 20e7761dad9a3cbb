"""The Ollama native fold (`/api/chat`, `/api/generate`, ASSEMBLY §5): the server's own stream=false result."""

from __future__ import annotations

from typing import Any

from llm_fixtures.assembling.items import Item, walk
from llm_fixtures.assembling.merging import as_dict, join_text
from llm_fixtures.ollamafields import METRICS

CHAT = "ollama.chat"
GENERATE = "ollama.generate"


def _text(parts: list[str] | None) -> str | None:
    return None if parts is None else join_text(parts)


def _append(parts: list[str] | None, value: Any) -> list[str] | None:
    if not isinstance(value, str):
        return parts
    if parts is None:
        parts = []
    parts.append(value)
    return parts


def fold(items: list[Item], kind: str) -> tuple[dict[str, Any], list[str]]:
    """Fold Ollama native items: text fields concatenated, tool calls and logprobs appended, the rest from
    the last item; a stream that never reached `done: true` keeps its text and reports no metrics."""
    warnings: list[str] = []
    main: list[str] | None = None  # message.content (chat) or response (generate)
    thinking: list[str] | None = None
    tool_calls: list[Any] = []
    logprobs: list[Any] = []
    last: dict[str, Any] = {}
    read = walk(items)
    warnings.extend(read.warnings)
    for _, chunk in read.payloads:
        last = chunk
        source = as_dict(chunk.get("message")) if kind == CHAT else chunk
        main = _append(main, source.get("content" if kind == CHAT else "response"))
        thinking = _append(thinking, source.get("thinking"))
        calls = source.get("tool_calls")
        if isinstance(calls, list):
            tool_calls.extend(calls)
        if isinstance(chunk.get("logprobs"), list):
            logprobs.extend(chunk["logprobs"])
    done = last.get("done") is True
    if read.count == 0:
        warnings.append("empty stream: no item")
    elif not done:
        warnings.append("truncated stream: the last item has done: false")
    result = read.head(kind)
    result["model"] = last.get("model")
    result["created_at"] = last.get("created_at")
    if kind == CHAT:
        role = as_dict(last.get("message")).get("role")
        result["message"] = {
            "role": role if isinstance(role, str) and role else "assistant",
            "content": _text(main) if main is not None else "",
            "thinking": _text(_non_empty(thinking)),
            "tool_calls": tool_calls or None,
        }
    else:
        result["response"] = _text(main) if main is not None else ""
        result["thinking"] = _text(_non_empty(thinking))
        result["context"] = last.get("context")
    result["done"] = last.get("done", False) if last else False
    result["done_reason"] = last.get("done_reason") if done else None
    for key in METRICS:
        result[key] = last.get(key) if done else None
    result["logprobs"] = logprobs or None
    return result, warnings


def _non_empty(parts: list[str] | None) -> list[str] | None:
    return parts if parts is not None and any(parts) else None
