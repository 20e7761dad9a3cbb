"""The Gemini `generate_content(_stream)` fold (ASSEMBLY §7, our own shape): per candidate, text parts joined,
other parts (function calls) kept whole, the last finish reason, the last usage metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.assembling.items import Item, walk
from llm_fixtures.assembling.merging import (
    TopLevel,
    as_dict,
    as_int,
    join_text,
    last_non_empty,
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

    def add(self, raw: dict[str, Any]) -> None:
        content = as_dict(raw.get("content"))
        role = content.get("role")
        if isinstance(role, str) and role and self.role is None:
            self.role = role
        parts = content.get("parts")
        for part in parts if isinstance(parts, list) else []:
            self.add_part(part)
        self.finish_reason = last_non_empty(self.finish_reason, _get(raw, "finish_reason", "finishReason")) or None

    def shape(self, warnings: list[str]) -> dict[str, Any]:
        if self.finish_reason is None:
            warnings.append(f"candidate {self.index}: no finish reason (truncated stream?)")
        parts = [part.shape() if isinstance(part, _Run) else part for part in self.parts]
        content = {"role": self.role, "parts": parts}
        return {"index": self.index, "content": content, "finish_reason": self.finish_reason}

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
    read = walk(items)
    warnings = read.warnings
    top = TopLevel(
        ("response_id", "model_version"),
        latest=("usage_metadata",),
        aliases={"response_id": "responseId", "model_version": "modelVersion", "usage_metadata": "usageMetadata"},
    )
    candidates: dict[int, _Candidate] = {}
    for _, chunk in read.payloads:
        top.see(chunk)
        raw_candidates = chunk.get("candidates")
        for position, raw in enumerate(raw_candidates if isinstance(raw_candidates, list) else []):
            if not isinstance(raw, dict):
                continue
            index = as_int(raw.get("index"))
            index = position if index is None else index
            candidate = candidates.get(index)
            if candidate is None:
                candidate = candidates[index] = _Candidate(index)
            candidate.add(raw)
    if not top.seen:
        warnings.append("empty stream: no chunk")
    result = read.head(KIND)
    result.update({key: top.values[key] for key in ("response_id", "model_version")})
    result["candidates"] = [candidates[index].shape(warnings) for index in sorted(candidates)]
    result["usage_metadata"] = top.values["usage_metadata"]
    return result, warnings
