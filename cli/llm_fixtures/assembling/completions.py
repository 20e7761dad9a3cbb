"""The legacy completions fold (`text_completion`, ASSEMBLY §3): text and logprobs per choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.assembling.chat import describe_error
from llm_fixtures.assembling.items import Item
from llm_fixtures.assembling.merging import as_int, first_set, join_text, last_non_empty, last_non_null

KIND = "text_completion"
_LOGPROB_LISTS = ("tokens", "token_logprobs", "top_logprobs", "text_offset")


@dataclass(slots=True)
class _Choice:
    index: int
    text: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    logprobs: dict[str, list[Any]] | None = None


def _apply_logprobs(choice: _Choice, logprobs: Any) -> None:
    if not isinstance(logprobs, dict):
        return
    if choice.logprobs is None:
        choice.logprobs = {key: [] for key in _LOGPROB_LISTS}
    for key in _LOGPROB_LISTS:
        values = logprobs.get(key)
        if isinstance(values, list):
            choice.logprobs[key].extend(values)


def fold(items: list[Item]) -> tuple[dict[str, Any], list[str]]:
    """Fold completion chunks (or one Completion)."""
    warnings: list[str] = []
    top: dict[str, Any] = {"id": None, "model": None, "created": None}
    seen = False
    fingerprint: Any = None
    usage: Any = None
    choices: dict[int, _Choice] = {}
    stream_error: dict[str, Any] | None = None
    count = 0
    for position, item in enumerate(items):
        if item.error is not None:
            stream_error = {"at_item": position, "error": item.error}
            warnings.append(f"stream error at item {position}: {describe_error(item.error)}")
            break
        count += 1
        chunk = item.payload
        if not isinstance(chunk, dict):
            warnings.append(f"item {position}: not an object; skipped")
            continue
        for key in top:
            top[key] = first_set(top[key], chunk.get(key), seen=seen)
        seen = True
        fingerprint = last_non_null(fingerprint, chunk.get("system_fingerprint"))
        usage = last_non_null(usage, chunk.get("usage"))
        raw_choices = chunk.get("choices")
        for raw in raw_choices if isinstance(raw_choices, list) else []:
            if not isinstance(raw, dict):
                continue
            index = as_int(raw.get("index"))
            index = 0 if index is None else index
            choice = choices.get(index)
            if choice is None:
                choice = choices[index] = _Choice(index)
            text = raw.get("text")
            if isinstance(text, str):
                choice.text.append(text)
            choice.finish_reason = last_non_empty(choice.finish_reason, raw.get("finish_reason")) or None
            _apply_logprobs(choice, raw.get("logprobs"))
    if not seen:
        warnings.append("empty stream: no chunk")
    result: dict[str, Any] = {"kind": KIND, "n_items": count}
    if stream_error is not None:
        result["stream_error"] = stream_error
    result.update(top)
    result["system_fingerprint"] = fingerprint
    out_choices = []
    for index in sorted(choices):
        choice = choices[index]
        if choice.finish_reason is None:
            warnings.append(f"choice {index}: no finish reason (truncated stream?)")
        out_choices.append(
            {
                "index": index,
                "text": join_text(choice.text),
                "finish_reason": choice.finish_reason,
                "logprobs": choice.logprobs,
            }
        )
    result["choices"] = out_choices
    result["usage"] = usage
    return result, warnings
