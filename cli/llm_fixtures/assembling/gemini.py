"""The Gemini `generate_content(_stream)` fold (ASSEMBLY §7, our own shape): per candidate, text parts joined,
other parts (function calls) kept whole, the last finish reason, the last usage metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.assembling.chat import describe_error
from llm_fixtures.assembling.items import Item
from llm_fixtures.assembling.merging import (
    as_dict,
    as_int,
    first_set,
    join_text,
    last_non_empty,
    last_non_null,
)

KIND = "gemini"


def _get(mapping: dict[str, Any], snake: str, camel: str) -> Any:
    """google-genai dumps snake_case, the REST API sends camelCase: read either."""
    value = mapping.get(snake)
    return mapping.get(camel) if value is None else value


@dataclass(slots=True)
class _Candidate:
    index: int
    role: str | None = None
    parts: list[Any] = field(default_factory=list)  # dicts, or ("text", thought, [fragments]) runs
    finish_reason: str | None = None

    def add_part(self, part: Any) -> None:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            thought = bool(part.get("thought"))
            last = self.parts[-1] if self.parts else None
            if isinstance(last, _Run) and last.thought == thought:
                last.fragments.append(part["text"])
                return
            self.parts.append(_Run(thought, [part["text"]]))
            return
        self.parts.append(part)


@dataclass(slots=True)
class _Run:
    thought: bool
    fragments: list[str]

    def shape(self) -> dict[str, Any]:
        text = {"text": join_text(self.fragments)}
        return {**text, "thought": True} if self.thought else text


def fold(items: list[Item]) -> tuple[dict[str, Any], list[str]]:
    """Fold Gemini response chunks (a non-stream response is a one-chunk stream)."""
    warnings: list[str] = []
    top: dict[str, Any] = {"response_id": None, "model_version": None}
    seen = False
    usage: Any = None
    candidates: dict[int, _Candidate] = {}
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
        top["response_id"] = first_set(top["response_id"], _get(chunk, "response_id", "responseId"), seen=seen)
        top["model_version"] = first_set(top["model_version"], _get(chunk, "model_version", "modelVersion"), seen=seen)
        seen = True
        usage = last_non_null(usage, _get(chunk, "usage_metadata", "usageMetadata"))
        raw_candidates = chunk.get("candidates")
        for position_in_chunk, raw in enumerate(raw_candidates if isinstance(raw_candidates, list) else []):
            if not isinstance(raw, dict):
                continue
            index = as_int(raw.get("index"))
            index = position_in_chunk if index is None else index
            candidate = candidates.get(index)
            if candidate is None:
                candidate = candidates[index] = _Candidate(index)
            content = as_dict(raw.get("content"))
            role = content.get("role")
            if isinstance(role, str) and role and candidate.role is None:
                candidate.role = role
            parts = content.get("parts")
            for part in parts if isinstance(parts, list) else []:
                candidate.add_part(part)
            candidate.finish_reason = (
                last_non_empty(candidate.finish_reason, _get(raw, "finish_reason", "finishReason")) or None
            )
    if not seen:
        warnings.append("empty stream: no chunk")
    result: dict[str, Any] = {"kind": KIND, "n_items": count}
    if stream_error is not None:
        result["stream_error"] = stream_error
    result.update(top)
    shaped = []
    for index in sorted(candidates):
        candidate = candidates[index]
        if candidate.finish_reason is None:
            warnings.append(f"candidate {index}: no finish reason (truncated stream?)")
        shaped.append(
            {
                "index": index,
                "content": {
                    "role": candidate.role,
                    "parts": [part.shape() if isinstance(part, _Run) else part for part in candidate.parts],
                },
                "finish_reason": candidate.finish_reason,
            }
        )
    result["candidates"] = shaped
    result["usage_metadata"] = usage
    return result, warnings
