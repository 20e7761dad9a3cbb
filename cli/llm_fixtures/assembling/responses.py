"""The OpenAI Responses API fold (ASSEMBLY §4): the terminal response, or the delta fold of a truncated stream,
cross-checked against each other."""

from __future__ import annotations

import copy
from typing import Any

from llm_fixtures.assembling.items import Item, walk
from llm_fixtures.assembling.merging import as_dict, as_int, join_text

KIND = "responses"
TERMINAL = ("response.completed", "response.incomplete", "response.failed")
LIFECYCLE = ("response.created", "response.queued", "response.in_progress")
# Delta event -> the item field it extends, for events addressed to an item (not a content part).
ITEM_DELTAS = {
    "response.function_call_arguments.delta": "arguments",
    "response.custom_tool_call_input.delta": "input",
    "response.mcp_call_arguments.delta": "arguments",
    "response.code_interpreter_call_code.delta": "code",
}
ITEM_DONES = {
    "response.function_call_arguments.done": "arguments",
    "response.custom_tool_call_input.done": "input",
    "response.mcp_call_arguments.done": "arguments",
    "response.code_interpreter_call_code.done": "code",
}


def _texts(parts: Any, key: str = "text") -> list[Any] | None:
    if not isinstance(parts, list):
        return None
    return [part.get(key) if isinstance(part, dict) else part for part in parts]


def _part_shape(part: Any) -> Any:
    if not isinstance(part, dict):
        return part
    if part.get("type") == "output_text":
        return {"type": "output_text", "text": part.get("text"), "annotations": part.get("annotations")}
    if part.get("type") == "refusal":
        return {"type": "refusal", "refusal": part.get("refusal")}
    return part


def item_shape(item: Any) -> Any:
    """The compared form of an output item: texts of reasoning summaries and content, message parts without
    their logprobs, function calls by their fields; other items as they are."""
    if not isinstance(item, dict):
        return item
    kind = item.get("type")
    if kind == "reasoning":
        return {
            "type": "reasoning",
            "id": item.get("id"),
            "summary": _texts(item.get("summary")) or [],
            "content": _texts(item.get("content")),
            "encrypted_content": item.get("encrypted_content"),
        }
    if kind == "message":
        content = item.get("content")
        return {
            "type": "message",
            "id": item.get("id"),
            "role": item.get("role"),
            "status": item.get("status"),
            "content": [_part_shape(part) for part in content] if isinstance(content, list) else content,
        }
    if kind == "function_call":
        return {
            "type": "function_call",
            "id": item.get("id"),
            "call_id": item.get("call_id"),
            "name": item.get("name"),
            "arguments": item.get("arguments"),
            "status": item.get("status"),
        }
    return item


def output_text(output: list[Any]) -> str:
    """The concatenated text of every `output_text` part of every message item (an SDK convenience)."""
    texts: list[str] = []
    for item in output:
        if isinstance(item, dict) and item.get("type") == "message" and isinstance(item.get("content"), list):
            for part in item["content"]:
                if isinstance(part, dict) and part.get("type") == "output_text":
                    text = part.get("text")
                    if isinstance(text, str):
                        texts.append(text)
    return "".join(texts)


class _Fold:
    def __init__(self) -> None:
        self.envelope: dict[str, Any] = {}
        self.added: dict[int, dict[str, Any]] = {}
        self.done: dict[int, dict[str, Any]] = {}
        # (output_index, where, index, field) -> fragments; where is "item", "content" or "summary"
        self.parts: dict[tuple[int, str, int, str], list[str]] = {}
        self.replaced: dict[tuple[int, str, int, str], str] = {}
        self.annotations: dict[tuple[int, int], dict[int, Any]] = {}
        self.terminal: tuple[str, dict[str, Any]] | None = None
        self.warnings: list[str] = []

    def add(self, key: tuple[int, str, int, str], fragment: Any) -> None:
        if isinstance(fragment, str):
            self.parts.setdefault(key, []).append(fragment)

    def replace(self, key: tuple[int, str, int, str], value: Any) -> None:
        if not isinstance(value, str):
            return
        folded = self.parts.get(key)
        if folded is not None and join_text(folded) != value:
            self.warnings.append(f"output[{key[0]}]: streamed {key[3]} deltas disagree with the {key[1]} done event")
        self.parts[key] = [value]

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if not isinstance(kind, str):
            return
        where = as_int(event.get("output_index"))
        o = -1 if where is None else where
        c = as_int(event.get("content_index"))
        c = 0 if c is None else c
        if kind in LIFECYCLE:
            self.envelope = as_dict(event.get("response"))
        elif kind in TERMINAL:
            self.terminal = (kind, as_dict(event.get("response")))
        elif kind == "response.output_item.added":
            self.added[o] = copy.deepcopy(as_dict(event.get("item")))
        elif kind == "response.output_item.done":
            self.done[o] = as_dict(event.get("item"))
        elif kind == "response.content_part.added":
            item = self.added.setdefault(o, {})
            content = item.get("content")
            if not isinstance(content, list):
                content = item["content"] = []
            while len(content) <= c:
                content.append({})
            content[c] = copy.deepcopy(as_dict(event.get("part")))
        elif kind in ("response.output_text.delta", "response.reasoning_text.delta"):
            self.add((o, "content", c, "text"), event.get("delta"))
        elif kind in ("response.output_text.done", "response.reasoning_text.done"):
            self.replace((o, "content", c, "text"), event.get("text"))
        elif kind == "response.output_text.annotation.added":
            held = self.annotations.setdefault((o, c), {})
            number = as_int(event.get("annotation_index"))
            held[len(held) if number is None else number] = event.get("annotation")
        elif kind == "response.refusal.delta":
            self.add((o, "content", c, "refusal"), event.get("delta"))
        elif kind == "response.refusal.done":
            self.replace((o, "content", c, "refusal"), event.get("refusal"))
        elif kind == "response.reasoning_summary_part.added":
            s = as_int(event.get("summary_index")) or 0
            item = self.added.setdefault(o, {})
            summary = item.get("summary")
            if not isinstance(summary, list):
                summary = item["summary"] = []
            while len(summary) <= s:
                summary.append({"type": "summary_text", "text": ""})
        elif kind == "response.reasoning_summary_text.delta":
            self.add((o, "summary", as_int(event.get("summary_index")) or 0, "text"), event.get("delta"))
        elif kind == "response.reasoning_summary_text.done":
            self.replace((o, "summary", as_int(event.get("summary_index")) or 0, "text"), event.get("text"))
        elif kind in ITEM_DELTAS:
            self.add((o, "item", 0, ITEM_DELTAS[kind]), event.get("delta"))
        elif kind in ITEM_DONES:
            self.replace((o, "item", 0, ITEM_DONES[kind]), event.get(ITEM_DONES[kind]))

    def folded_items(self) -> dict[int, dict[str, Any]]:
        """Each added item with its streamed text put in."""
        items = {o: copy.copy(item) for o, item in self.added.items()}
        for (o, c), added in self.annotations.items():
            item = items.setdefault(o, {})
            content = list(item.get("content") or [])
            while len(content) <= c:
                content.append({})
            content[c] = {**as_dict(content[c]), "annotations": [added[n] for n in sorted(added)]}
            item["content"] = content
        for (o, where, index, name), fragments in self.parts.items():
            item = items.setdefault(o, {})
            text = join_text(fragments)
            if where == "item":
                item[name] = text
                continue
            holder = item.get(where)
            holder = list(holder) if isinstance(holder, list) else []
            while len(holder) <= index:
                holder.append({})
            part = dict(holder[index]) if isinstance(holder[index], dict) else {}
            part[name] = text
            holder[index] = part
            item[where] = holder
        return items

    def cross_check(self, output: list[Any], folded: dict[int, dict[str, Any]]) -> None:
        """Compare the streamed text of each item with the terminal response's item at the same position."""
        for o, item in folded.items():
            if not 0 <= o < len(output) or not isinstance(output[o], dict):
                continue
            final = item_shape(output[o])
            mine = item_shape(item)
            if not isinstance(final, dict) or not isinstance(mine, dict) or final.get("type") != mine.get("type"):
                continue
            for name in ("arguments", "code", "input", "summary", "content"):
                if not _streamed(o, name, self.parts):
                    continue
                if _texts_of(mine.get(name)) != _texts_of(final.get(name)):
                    self.warnings.append(
                        f"output[{o}] ({final.get('type')}): streamed {name} disagrees with the terminal event"
                    )


def _streamed(o: int, name: str, parts: dict[tuple[int, str, int, str], list[str]]) -> bool:
    for where_o, where, _, field in parts:
        if where_o == o and (where == name or (where == "item" and field == name)):
            return True
    return False


def _texts_of(value: Any) -> Any:
    if isinstance(value, list):
        return [part.get("text", part.get("refusal")) if isinstance(part, dict) else part for part in value]
    return value


def fold(items: list[Item]) -> tuple[dict[str, Any], list[str]]:
    """Fold Responses API events, or take a non-stream Response object as the result."""
    state = _Fold()
    read = walk(items, is_error=lambda payload: payload.get("type") == "error")
    state.warnings.extend(read.warnings)
    response_object: dict[str, Any] | None = None
    for _, payload in read.payloads:
        if payload.get("object") == "response" and "type" not in payload:
            response_object = payload
        else:
            state.event(payload)
    result = read.head(KIND)
    folded = state.folded_items()
    if response_object is not None or state.terminal is not None:
        if state.terminal is not None:
            event, response = state.terminal
            result["terminal_event"] = event
            result["final_source"] = f"{event} event"
        else:
            response = response_object or {}
            result["terminal_event"] = None
            result["final_source"] = "response object"
        output = response.get("output")
        if not isinstance(output, list):
            output = [state.done[o] for o in sorted(state.done)]
        state.cross_check(output, folded)
        shaped = [item_shape(entry) for entry in output]
        result.update(
            {
                "id": response.get("id"),
                "model": response.get("model"),
                "status": response.get("status"),
                "output": shaped,
                "output_text": output_text(shaped),
                "usage": response.get("usage"),
                "incomplete_details": response.get("incomplete_details"),
                "error": response.get("error"),
            }
        )
        if response.get("status") in ("incomplete", "failed"):
            state.warnings.append(f"response status {response.get('status')}")
        return result, state.warnings
    state.warnings.append("truncated stream: no terminal event (response.completed/incomplete/failed)")
    if read.count == 0:
        state.warnings.append("empty stream: no event")
    merged = {**folded, **state.done}
    result["terminal_event"] = None
    result["final_source"] = "delta fold only (stream truncated)"
    result["status"] = "in_progress"
    result["output"] = [item_shape(merged[o]) for o in sorted(merged)]
    return result, state.warnings
