"""The chat completions fold (`chat.completion.chunk`, ASSEMBLY §2): chunks to the final message per choice."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.assembling.items import Item, walk
from llm_fixtures.assembling.merging import (
    TopLevel,
    as_dict,
    as_int,
    finish,
    join_text,
    merge_field,
    set_once,
)

KIND = "chat.completion.chunk"
_MESSAGE_KEYS = frozenset({"role", "content", "refusal", "tool_calls", "function_call"})


@dataclass(slots=True)
class _Slot:
    """One tool call being assembled."""

    id: str = ""
    type: str | None = None
    name: str = ""
    name_seen: bool = False
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Audio:
    """`delta.audio` of audio models: base64 `data` per chunk (decoded one by one, the bytes joined),
    `transcript` concatenated, `id` once, other fields (`expires_at`) last-wins."""

    data: list[bytes] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    bad_data: bool = False

    def add(self, delta: dict[str, Any]) -> None:
        for key, value in delta.items():
            if value is None:
                continue
            if key == "data" and isinstance(value, str):
                try:
                    self.data.append(base64.b64decode(value, validate=False))
                except (binascii.Error, ValueError):
                    self.bad_data = True
            elif key == "transcript" and isinstance(value, str):
                self.transcript.append(value)
            elif key == "id" and self.fields.get("id"):
                continue
            else:
                self.fields[key] = value

    def finish(self) -> dict[str, Any]:
        done = dict(self.fields)
        if self.data:
            done["data"] = base64.b64encode(b"".join(self.data)).decode()
        if self.transcript:
            done["transcript"] = join_text(self.transcript)
        return done


@dataclass(slots=True)
class _Choice:
    index: int
    role: str | None = None
    content: list[str] | None = None
    refusal: list[str] | None = None
    slots: dict[int, _Slot] = field(default_factory=dict)
    last_slot: int | None = None
    function_name: str | None = None
    function_arguments: list[str] | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    audio: _Audio | None = None
    finish_reason: str | None = None
    logprobs: dict[str, list[Any] | None] | None = None


def _slot_for(choice: _Choice, fragment: dict[str, Any]) -> int:
    """Which slot a tool-call fragment belongs to (ASSEMBLY §2.3 rules 1 and 2)."""
    index = as_int(fragment.get("index"))
    call_id = fragment.get("id") if isinstance(fragment.get("id"), str) else ""
    slots = choice.slots

    def by_id() -> int:
        for number, slot in slots.items():
            if slot.id == call_id:
                return number
        return max(slots) + 1 if slots else 0

    if index is not None:
        held = slots.get(index)
        if held is not None and held.id and call_id and call_id != held.id:
            return by_id()
        return index
    if call_id:
        return by_id()
    return choice.last_slot if choice.last_slot is not None else 0


def _merge_tool_call(choice: _Choice, fragment: Any) -> None:
    if not isinstance(fragment, dict):
        return
    number = _slot_for(choice, fragment)
    slot = choice.slots.setdefault(number, _Slot())
    choice.last_slot = number
    call_id = fragment.get("id")
    if isinstance(call_id, str) and call_id and not slot.id:
        slot.id = call_id
    kind = fragment.get("type")
    if isinstance(kind, str) and kind:
        slot.type = kind
    function = as_dict(fragment.get("function"))
    name = function.get("name")
    if isinstance(name, str):
        slot.name = set_once(slot.name, name)
        slot.name_seen = True
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        slot.arguments.append(arguments)


def _apply_delta(choice: _Choice, delta: dict[str, Any]) -> None:
    for key, value in delta.items():
        if value is None:
            continue
        if key == "content":  # first: most deltas carry text and nothing else
            if isinstance(value, str):
                if choice.content is None:
                    choice.content = []
                choice.content.append(value)
        elif key == "role":
            if isinstance(value, str) and value and choice.role is None:
                choice.role = value
        elif key == "refusal":
            if isinstance(value, str):
                if choice.refusal is None:
                    choice.refusal = []
                choice.refusal.append(value)
        elif key == "tool_calls":
            if isinstance(value, list):
                for fragment in value:
                    _merge_tool_call(choice, fragment)
        elif key == "function_call":
            if isinstance(value, dict):
                name = value.get("name")
                if isinstance(name, str):
                    choice.function_name = set_once(choice.function_name or "", name)
                arguments = value.get("arguments")
                if choice.function_arguments is None:
                    choice.function_arguments = []
                if isinstance(arguments, str):
                    choice.function_arguments.append(arguments)
        elif key == "audio" and isinstance(value, dict):
            if choice.audio is None:
                choice.audio = _Audio()
            choice.audio.add(value)
        else:
            choice.extras[key] = merge_field(key, choice.extras.get(key), value)


def _apply_logprobs(choice: _Choice, logprobs: Any) -> None:
    if not isinstance(logprobs, dict):
        return
    if choice.logprobs is None:
        choice.logprobs = {"content": None, "refusal": None}
    for key in ("content", "refusal"):
        tokens = logprobs.get(key)
        if isinstance(tokens, list):
            held = choice.logprobs[key]
            if held is None:
                choice.logprobs[key] = list(tokens)
            else:
                held.extend(tokens)


def _finish_choice(choice: _Choice, warnings: list[str]) -> dict[str, Any]:
    where = f"choice {choice.index}"
    tool_calls = None
    if choice.slots:
        tool_calls = []
        numbers = sorted(choice.slots)
        if numbers != list(range(len(numbers))):
            warnings.append(f"{where}: tool call indexes {numbers} have gaps")
        for number in numbers:
            slot = choice.slots[number]
            arguments = join_text(slot.arguments)
            if arguments:
                try:
                    json.loads(arguments)
                except (json.JSONDecodeError, RecursionError):
                    warnings.append(f"{where}: tool call {slot.name or number} has arguments that are not JSON")
            tool_calls.append(
                {
                    "id": slot.id or None,
                    "type": slot.type,
                    "function": {"name": slot.name if slot.name_seen else None, "arguments": arguments},
                }
            )
    function_call = None
    if choice.function_arguments is not None or choice.function_name is not None:
        function_call = {
            "name": choice.function_name,
            "arguments": join_text(choice.function_arguments or []),
        }
    message: dict[str, Any] = {
        "role": choice.role or "assistant",
        "content": None if choice.content is None else join_text(choice.content),
        "refusal": None if choice.refusal is None else join_text(choice.refusal),
        "tool_calls": tool_calls,
        "function_call": function_call,
    }
    for key, value in choice.extras.items():
        done = finish(value)
        if done not in (None, []):
            message[key] = done
    if choice.audio is not None:
        message["audio"] = choice.audio.finish()
        if choice.audio.bad_data:
            warnings.append(f"{where}: audio data that is not base64; left out")
    if choice.finish_reason is None:
        warnings.append(f"{where}: no finish reason (truncated stream?)")
    return {
        "index": choice.index,
        "finish_reason": choice.finish_reason,
        "message": message,
        "logprobs": choice.logprobs,
    }


def fold(items: list[Item]) -> tuple[dict[str, Any], list[str]]:
    """Fold chat completion chunks (or one ChatCompletion, read as a chunk whose delta is its message)."""
    read = walk(items)
    warnings = read.warnings
    top = TopLevel(("id", "model", "created"), last=("service_tier",), latest=("system_fingerprint", "usage"))
    choices: dict[int, _Choice] = {}
    see = top.see
    # The loop runs once per chunk of every chat stream (most of what `show --assemble` does): the common case,
    # one choice whose index is an int, is taken without the helpers' calls (choices_by_index, last_non_empty).
    for _, chunk in read.payloads:
        obj = chunk.get("object")
        if obj is not None and obj not in ("chat.completion.chunk", "chat.completion"):
            continue  # Azure's prompt_filter_results pseudo-chunk, and anything else that is not a chunk
        see(chunk)
        raw_choices = chunk.get("choices")
        if not isinstance(raw_choices, list):
            continue
        for raw in raw_choices:
            if not isinstance(raw, dict):
                continue
            index = raw.get("index")
            if type(index) is not int:
                index = as_int(index) or 0
            choice = choices.get(index)
            if choice is None:
                choice = choices[index] = _Choice(index)
            delta = raw.get("delta")
            if delta is None and obj == "chat.completion":
                delta = raw.get("message")
            if isinstance(delta, dict):
                _apply_delta(choice, delta)
            finish_reason = raw.get("finish_reason")
            if finish_reason is not None and finish_reason != "":  # last_non_empty: an empty value fills no gap
                choice.finish_reason = finish_reason or None
            logprobs = raw.get("logprobs")
            if logprobs is not None:
                _apply_logprobs(choice, logprobs)
    if not top.seen:
        warnings.append("empty stream: no chunk")
    values = top.values
    result = read.head(KIND)
    result.update({key: values[key] for key in ("id", "model", "created", "system_fingerprint", "service_tier")})
    result["choices"] = [_finish_choice(choices[index], warnings) for index in sorted(choices)]
    result["usage"] = values["usage"]
    return result, warnings
