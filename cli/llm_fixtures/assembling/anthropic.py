"""The Anthropic Messages fold (ASSEMBLY §6): events to the final message, or a message body as it is."""

from __future__ import annotations

import copy
import json
from typing import Any

from llm_fixtures.assembling.items import Item, walk
from llm_fixtures.assembling.merging import as_dict, as_int, join_text

KIND = "anthropic"
MESSAGE_KEYS = ("id", "model", "role", "content", "stop_reason", "stop_sequence", "usage")


def message_shape(message: dict[str, Any]) -> dict[str, Any]:
    """The compared fields of a message, in a fixed order."""
    return {key: message.get(key) for key in MESSAGE_KEYS}


class _Fold:
    def __init__(self) -> None:
        self.message: dict[str, Any] = {}
        self.content: list[dict[str, Any]] = []
        self.parts: dict[tuple[int, str], list[str]] = {}  # (block, field) -> fragments
        self.warnings: list[str] = []
        self.stopped = False

    def block(self, index: Any) -> int | None:
        number = as_int(index)
        if number is None or not 0 <= number < len(self.content):
            self.warnings.append(f"event for content block {index!r}, which was never started; ignored")
            return None
        return number

    def add_part(self, index: int, name: str, fragment: Any) -> None:
        if isinstance(fragment, str):
            self.parts.setdefault((index, name), []).append(fragment)

    def event(self, payload: dict[str, Any]) -> None:
        kind = payload.get("type")
        if kind == "message_start":
            self.message = copy.deepcopy(as_dict(payload.get("message")))
            started = self.message.get("content")
            self.content = [block for block in started if isinstance(block, dict)] if started else []
        elif kind == "content_block_start":
            start = copy.deepcopy(as_dict(payload.get("content_block")))
            index = as_int(payload.get("index"))
            if index is not None and index < len(self.content):
                self.content[index] = start
            else:
                if index is not None and index > len(self.content):
                    self.warnings.append(f"content block index gap: {index} after {len(self.content) - 1}")
                self.content.append(start)
        elif kind == "content_block_delta":
            self.delta(payload)
        elif kind == "content_block_stop":
            self.stop_block(payload.get("index"))
        elif kind == "message_delta":
            delta = as_dict(payload.get("delta"))
            for key in ("stop_reason", "stop_sequence"):
                if key in delta:
                    self.message[key] = delta[key]
            usage = as_dict(payload.get("usage"))
            held = self.message.get("usage")
            held = held if isinstance(held, dict) else {}
            for key, value in usage.items():
                if value is not None or key == "output_tokens":
                    held[key] = value
            self.message["usage"] = held
        elif kind == "message_stop":
            self.stopped = True

    def delta(self, payload: dict[str, Any]) -> None:
        index = self.block(payload.get("index"))
        if index is None:
            return
        block = self.content[index]
        delta = as_dict(payload.get("delta"))
        kind = delta.get("type")
        if kind == "text_delta":
            self.add_part(index, "text", delta.get("text"))
        elif kind == "thinking_delta":
            self.add_part(index, "thinking", delta.get("thinking"))
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature")
        elif kind == "input_json_delta":
            self.add_part(index, "input", delta.get("partial_json"))
        elif kind == "citations_delta":
            citations = block.get("citations")
            block["citations"] = [*(citations if isinstance(citations, list) else []), delta.get("citation")]

    def stop_block(self, index: Any) -> None:
        number = self.block(index)
        if number is None:
            return
        block = self.content[number]
        buffer = join_text(self.parts.pop((number, "input"), []))
        if buffer:
            try:
                block["input"] = json.loads(buffer)
            except (json.JSONDecodeError, RecursionError):
                self.warnings.append(f"content block {number}: tool input is not JSON; kept as text")
                block["input"] = buffer

    def result(self) -> dict[str, Any]:
        for (number, name), fragments in self.parts.items():
            block = self.content[number]
            if name == "input":
                block["input_partial_json"] = join_text(fragments)  # never stopped: truncated
                continue
            start = block.get(name)
            block[name] = join_text([start if isinstance(start, str) else "", *fragments])
        self.message["content"] = self.content
        return message_shape(self.message)


def fold(items: list[Item]) -> tuple[dict[str, Any], list[str]]:
    """Fold Anthropic stream events, or take a non-stream message body as it is."""
    state = _Fold()
    read = walk(items)
    state.warnings.extend(read.warnings)
    if len(read.payloads) == 1 and read.payloads[0][1].get("type") == "message":
        return {"kind": KIND, "n_items": 1, "message": message_shape(read.payloads[0][1])}, state.warnings
    for _, payload in read.payloads:
        state.event(payload)
    result = read.head(KIND)
    if read.stream_error is None and not state.stopped:
        state.warnings.append("truncated stream: no message_stop event")
    if not state.message:
        state.warnings.append("no message_start event")
    result["message"] = state.result()
    if result["message"].get("stop_reason") is None:
        state.warnings.append("no stop reason")
    return result, state.warnings
