"""Every dialect's assembled answer read into one neutral `FinalMessage`: what `show --assemble` prints and `diff`
compares field by field. The only place that knows where each dialect keeps its text, reasoning and tool calls."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.assembling.merging import as_dict
from llm_fixtures.envelopes import parse_envelope

# Kinds of a fold that found no message (a model list, embeddings, a tool result, /api/ps, an empty body): their
# body itself is what the recording answered.
NOT_A_MESSAGE = frozenset({"unknown", "empty", "none"})
MODELS = "models"
BODY = "body"


@dataclass(slots=True)
class ToolCall:
    """A call the answer asks for: `kind` is `function`, or a built-in tool's item type (`file_search_call`,
    `web_search_call`, ...) whose `arguments` are the item's own fields. Arguments as recorded: a JSON string, or
    an object for the dialects that send objects (Anthropic, Gemini, Ollama)."""

    name: str | None
    arguments: Any
    call_id: str | None = None
    kind: str = "function"

    def parsed_arguments(self) -> tuple[bool, Any]:
        """(True, the arguments as JSON values), or (False, the text as recorded) when it is not JSON."""
        arguments = self.arguments
        if not isinstance(arguments, str):
            return True, arguments
        if not arguments:
            return True, None
        try:
            return True, json.loads(arguments)
        except (json.JSONDecodeError, RecursionError, ValueError):
            return False, arguments


@dataclass(slots=True)
class Choice:
    """One choice, candidate, or the one message of an answer. `other` holds the blocks or items no field here
    describes (kept whole), `rest` every other field of the choice (logprobs, annotations, audio, ...), so that
    nothing the answer said is lost."""

    label: str
    role: str | None = None
    text: str | None = None
    reasoning: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: Any = None
    other: list[Any] = field(default_factory=list)
    rest: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FinalMessage:
    """The answer of a response in one shape for every dialect. `kind` is the fold's (`chat.completion.chunk`,
    `responses`, `anthropic`, ...), `models` for a model listing (`models` holds its entries) or `body` for any
    other body that is not a message (kept whole in `rest["body"]`). `error` is the error that ended a stream,
    or the response's own error; `rest` every other top-level field, kept as data."""

    kind: str
    n_items: int = 0
    id: str | None = None
    model: str | None = None
    choices: list[Choice] = field(default_factory=list)
    usage: Any = None
    error: Any = None
    models: list[Any] | None = None
    rest: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _joined(texts: list[str], sep: str = "") -> str | None:
    return sep.join(texts) if texts else None


def _kept(value: dict[str, Any], taken: frozenset[str]) -> dict[str, Any]:
    """The fields not read into the model, without the empty ones."""
    return {key: item for key, item in value.items() if key not in taken and item is not None and item != []}


def unwrap(body: Any) -> Any:
    """A body with its `{__type__, __data__}` envelopes taken off (each item of a list too)."""
    if isinstance(body, list):
        return [parse_envelope(item)[1] for item in body]
    return parse_envelope(body)[1]


def listed_models(body: Any) -> list[Any] | None:
    """The entries of a model listing (OpenAI `/v1/models` items or page, Ollama `/api/tags` and `/api/ps`),
    from a body with its envelopes taken off; None for any other body."""
    if isinstance(body, dict):
        for key in ("data", "models"):
            entries = body.get(key)
            if isinstance(entries, list) and (key == "models" or body.get("object") == "list"):
                return entries if _all_models(entries) else None
        return [body] if body.get("object") == "model" else None
    if isinstance(body, list) and body and _all_models(body):
        return body
    return None


def _all_models(entries: list[Any]) -> bool:
    return all(
        isinstance(entry, dict) and (entry.get("object") == "model" or "model" in entry or "name" in entry)
        for entry in entries
    )


# ---------------------------------------------------------------------------------------------- dialects


def _function_calls(calls: Any) -> list[ToolCall]:
    """Tool calls in the OpenAI and Ollama shape: `{id, type, function: {name, arguments}}`."""
    found: list[ToolCall] = []
    for call in calls if isinstance(calls, list) else []:
        call = as_dict(call)
        function = as_dict(call.get("function"))
        found.append(ToolCall(_str(function.get("name")), function.get("arguments"), _str(call.get("id"))))
    return found


_CHAT_MESSAGE = frozenset(
    {"role", "content", "refusal", "tool_calls", "function_call", "reasoning_content", "reasoning", "reasoning_details"}
)


def _chat_reasoning(message: dict[str, Any]) -> str | None:
    for key in ("reasoning_content", "reasoning", "thinking"):
        if isinstance(message.get(key), str):
            return str(message[key])
    details = message.get("reasoning_details")
    if isinstance(details, list):
        return _joined([text for d in details if (text := _str(as_dict(d).get("text"))) is not None])
    return None


def _chat(result: dict[str, Any], final: FinalMessage) -> None:
    for raw in result.get("choices") or []:
        choice = as_dict(raw)
        message = as_dict(choice.get("message"))
        calls = _function_calls(message.get("tool_calls"))
        legacy = message.get("function_call")
        if isinstance(legacy, dict):
            calls.append(ToolCall(_str(legacy.get("name")), legacy.get("arguments")))
        rest = _kept(message, _CHAT_MESSAGE)
        if choice.get("logprobs") is not None:
            rest["logprobs"] = choice["logprobs"]
        final.choices.append(
            Choice(
                label=f"choice {choice.get('index', 0)}",
                role=_str(message.get("role")),
                text=_str(message.get("content")),
                reasoning=_chat_reasoning(message),
                refusal=_str(message.get("refusal")),
                tool_calls=calls,
                finish_reason=choice.get("finish_reason"),
                rest=rest,
            )
        )


def _completions(result: dict[str, Any], final: FinalMessage) -> None:
    for raw in result.get("choices") or []:
        choice = as_dict(raw)
        final.choices.append(
            Choice(
                label=f"choice {choice.get('index', 0)}",
                text=_str(choice.get("text")),
                finish_reason=choice.get("finish_reason"),
                rest=_kept(choice, frozenset({"index", "text", "finish_reason"})),
            )
        )


def _texts(parts: Any) -> list[str]:
    """The texts of a list of summary or content parts (strings, or objects with `text`)."""
    found: list[str] = []
    for part in parts if isinstance(parts, list) else []:
        text = part if isinstance(part, str) else as_dict(part).get("text")
        if isinstance(text, str):
            found.append(text)
    return found


# Responses output items that call a function of the caller's (their arguments are the model's own words).
_RESPONSES_CALLS = {"function_call": "arguments", "custom_tool_call": "input", "mcp_call": "arguments"}


def _responses(result: dict[str, Any], final: FinalMessage) -> None:
    choice = Choice(label="response", role="assistant", finish_reason=result.get("status"))
    texts: list[str] = []
    reasoning: list[str] = []
    refusals: list[str] = []
    for raw in result.get("output") or []:
        item = as_dict(raw)
        kind = item.get("type")
        if kind == "reasoning":
            reasoning.extend([*_texts(item.get("summary")), *_texts(item.get("content"))])
            if item.get("encrypted_content") is not None:
                choice.rest.setdefault("encrypted_reasoning", []).append(item["encrypted_content"])
        elif kind == "message":
            for part in item.get("content") or []:
                part = as_dict(part)
                if part.get("type") == "refusal":
                    refusals.append(_str(part.get("refusal")) or "")
                elif isinstance(part.get("text"), str):
                    texts.append(part["text"])
                    if part.get("annotations"):
                        choice.rest.setdefault("annotations", []).append(part["annotations"])
                else:
                    choice.other.append(part)
        elif kind in _RESPONSES_CALLS:
            arguments = item.get(_RESPONSES_CALLS[kind])
            call_id = _str(item.get("call_id")) or _str(item.get("id"))
            choice.tool_calls.append(ToolCall(_str(item.get("name")), arguments, call_id, kind="function"))
        elif isinstance(kind, str) and kind.endswith("_call"):
            arguments = _kept(item, frozenset({"type", "id", "status", "name"}))
            choice.tool_calls.append(ToolCall(_str(item.get("name")) or kind, arguments, _str(item.get("id")), kind))
        else:
            choice.other.append(item)
    choice.text = _joined(texts)
    choice.reasoning = _joined(reasoning, "\n\n")
    choice.refusal = _joined(refusals)
    if result.get("incomplete_details") is not None:
        choice.rest["incomplete_details"] = result["incomplete_details"]
    final.choices.append(choice)
    if final.error is None:
        final.error = result.get("error")


_ANTHROPIC_CALLS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


def _anthropic(result: dict[str, Any], final: FinalMessage) -> None:
    message = as_dict(result.get("message"))
    final.id = _str(message.get("id"))
    final.model = _str(message.get("model"))
    final.usage = message.get("usage")
    choice = Choice(label="message", role=_str(message.get("role")), finish_reason=message.get("stop_reason"))
    texts: list[str] = []
    thinking: list[str] = []
    for raw in message.get("content") or []:
        block = as_dict(raw)
        kind = block.get("type")
        if kind == "text":
            texts.append(_str(block.get("text")) or "")
            if block.get("citations"):
                choice.rest.setdefault("citations", []).append(block["citations"])
        elif kind == "thinking":
            thinking.append(_str(block.get("thinking")) or "")
        elif kind == "redacted_thinking":
            thinking.append("[redacted thinking]")
        elif kind in _ANTHROPIC_CALLS:
            arguments = block.get("input", block.get("input_partial_json"))
            choice.tool_calls.append(ToolCall(_str(block.get("name")), arguments, _str(block.get("id"))))
        else:
            choice.other.append(raw)
    choice.text = _joined(texts)
    choice.reasoning = _joined(thinking, "\n\n")
    if message.get("stop_sequence") is not None:
        choice.rest["stop_sequence"] = message["stop_sequence"]
    final.choices.append(choice)


_OLLAMA_USAGE = ("prompt_eval_count", "eval_count")


def _ollama(result: dict[str, Any], final: FinalMessage) -> None:
    chat = final.kind == "ollama.chat"
    message = as_dict(result.get("message")) if chat else result
    choice = Choice(
        label="message" if chat else "response",
        role=_str(message.get("role")) if chat else None,
        text=_str(message.get("content" if chat else "response")),
        reasoning=_str(message.get("thinking")),
        tool_calls=_function_calls(message.get("tool_calls")),
        finish_reason=result.get("done_reason"),
    )
    if chat:
        choice.rest = _kept(message, frozenset({"role", "content", "thinking", "tool_calls"}))
    if result.get("logprobs") is not None:
        choice.rest["logprobs"] = result["logprobs"]
    final.choices.append(choice)
    usage = {key: result[key] for key in _OLLAMA_USAGE if result.get(key) is not None}
    final.usage = usage or None


def _parts(label: str, role: Any, parts: list[Any], finish: Any) -> Choice:
    """A choice of Gemini parts or Interactions outputs: text, thought text, function calls."""
    choice = Choice(label=label, role=_str(role), finish_reason=finish)
    texts: list[str] = []
    thoughts: list[str] = []
    for raw in parts:
        part = as_dict(raw)
        call = part.get("function_call") or part.get("functionCall")
        if isinstance(call, dict):
            choice.tool_calls.append(ToolCall(_str(call.get("name")), call.get("args"), _str(call.get("id"))))
        elif part.get("type") == "function_call":
            choice.tool_calls.append(ToolCall(_str(part.get("name")), part.get("arguments"), _str(part.get("id"))))
        elif part.get("type") == "thought":
            thoughts.extend([*_texts(part.get("summary")), *([part["text"]] if _str(part.get("text")) else [])])
        elif isinstance(part.get("text"), str):
            (thoughts if part.get("thought") else texts).append(part["text"])
        else:
            choice.other.append(raw)
    choice.text = _joined(texts)
    choice.reasoning = _joined(thoughts, "\n\n")
    return choice


def _gemini(result: dict[str, Any], final: FinalMessage) -> None:
    final.id = _str(result.get("response_id"))
    final.model = _str(result.get("model_version"))
    final.usage = result.get("usage_metadata")
    for raw in result.get("candidates") or []:
        candidate = as_dict(raw)
        content = as_dict(candidate.get("content"))
        label = f"candidate {candidate.get('index', 0)}"
        parts = content.get("parts")
        final.choices.append(
            _parts(label, content.get("role"), parts if isinstance(parts, list) else [], candidate.get("finish_reason"))
        )


def _interactions(result: dict[str, Any], final: FinalMessage) -> None:
    outputs = result.get("outputs")
    final.choices.append(
        _parts("interaction", result.get("role"), outputs if isinstance(outputs, list) else [], result.get("status"))
    )


_DIALECTS = {
    "chat.completion.chunk": _chat,
    "text_completion": _completions,
    "responses": _responses,
    "anthropic": _anthropic,
    "ollama.chat": _ollama,
    "ollama.generate": _ollama,
    "gemini": _gemini,
    "gemini.interactions": _interactions,
}
# Top-level keys each dialect reads into the model (the rest is kept in `rest`).
_READ = frozenset(
    {"kind", "n_items", "id", "model", "usage", "stream_error", "choices", "output", "output_text", "status"}
    | {"incomplete_details", "error", "message", "candidates", "response_id", "model_version", "usage_metadata"}
    | {"outputs", "role", "response", "thinking", *_OLLAMA_USAGE}
)


def final_message(kind: str, result: Any, warnings: list[str] | None = None) -> FinalMessage:
    """The neutral answer of a fold's `(kind, result)`. For a kind that found no message, `result` is the body
    (envelopes unwrapped, see `answer_source`): a model listing, or a body kept whole."""
    warnings = list(warnings or [])
    if kind in NOT_A_MESSAGE or not isinstance(result, dict):
        models = listed_models(result)
        if models is not None:
            return FinalMessage(kind=MODELS, n_items=len(models), models=models, warnings=warnings)
        return FinalMessage(kind=BODY, rest={} if result is None else {"body": result}, warnings=warnings)
    n_items = result.get("n_items")
    final = FinalMessage(
        kind=kind,
        n_items=n_items if isinstance(n_items, int) else 0,
        id=_str(result.get("id")),
        model=_str(result.get("model")),
        usage=result.get("usage"),
        error=result.get("stream_error"),
        warnings=warnings,
    )
    read = _DIALECTS.get(kind)
    if read is not None:
        read(result, final)
    final.rest = _kept(result, _READ)
    if kind not in _DIALECTS:
        final.rest = _kept(result, frozenset({"kind", "n_items", "stream_error"}))
    return final


def answer_source(body: Any, *, is_streaming: bool) -> tuple[str, Any, list[str]]:
    """What a stored body's answer is read from: `(kind, the assembled result, warnings)`, or for a body that
    holds no message, `(kind, the body without its envelopes, warnings)`. Pass the second to `final_message`
    (after setting volatile fields aside, as `diff` does)."""
    from llm_fixtures.assembling import fold_body

    kind, result, warnings = fold_body(body, is_streaming=is_streaming)
    if kind in NOT_A_MESSAGE:
        return kind, unwrap(body), warnings
    return kind, result, warnings


def answer_of(body: Any, *, is_streaming: bool) -> FinalMessage:
    """The neutral answer of a stored response body."""
    return final_message(*answer_source(body, is_streaming=is_streaming))
