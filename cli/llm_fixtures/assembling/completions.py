"""The legacy completions fold (`text_completion`, ASSEMBLY §3): text and logprobs per choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.assembling.items import Item, walk
from llm_fixtures.assembling.merging import TopLevel, choices_by_index, join_text, last_non_empty

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
    read = walk(items)
    warnings = read.warnings
    top = TopLevel(("id", "model", "created"), latest=("system_fingerprint", "usage"))
    choices: dict[int, _Choice] = {}
    for _, chunk in read.payloads:
        top.see(chunk)
        for raw, choice in choices_by_index(chunk, choices, _Choice):
            text = raw.get("text")
            if isinstance(text, str):
                choice.text.append(text)
            choice.finish_reason = last_non_empty(choice.finish_reason, raw.get("finish_reason")) or None
            _apply_logprobs(choice, raw.get("logprobs"))
    if not top.seen:
        warnings.append("empty stream: no chunk")
    result = read.head(KIND)
    result.update({key: top.values[key] for key in ("id", "model", "created", "system_fingerprint")})
    result["choices"] = [_finish_choice(choices[index], warnings) for index in sorted(choices)]
    result["usage"] = top.values["usage"]
    return result, warnings


def _finish_choice(choice: _Choice, warnings: list[str]) -> dict[str, Any]:
    if choice.finish_reason is None:
        warnings.append(f"choice {choice.index}: no finish reason (truncated stream?)")
    return {
        "index": choice.index,
        "text": join_text(choice.text),
        "finish_reason": choice.finish_reason,
        "logprobs": choice.logprobs,
    }
