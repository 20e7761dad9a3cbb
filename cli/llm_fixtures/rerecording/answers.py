"""Whether an answer the http runner received has the shape of the API's answer for its endpoint: the fields the
client SDK requires, each of the right JSON type. A 200 whose body is `null`, `[1,2,3]`, `"hello"` or
`{"choices": "abc"}` is no answer a test could replay: storing it would replace a good recording with junk that
`check` then passes. Pure: decoded JSON in, one line saying what is wrong (or None) out.

What is required follows the SDKs' declarations (openai-python 2.x, ollama-python 0.6, the Anthropic and Gemini
Interactions APIs): a field the SDK declares without a default must be there, with its type (null only where the
SDK allows None); fields with defaults may be missing. Streams: every chunk or event, one by one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llm_fixtures.rerecording.calls import Call
from llm_fixtures.rerecording.responses_types import event_kind

_KINDS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "number": (int, float),
    "bool": (bool,),
    "list": (list,),
    "object": (dict,),
    "text-or-list": (str, list),
}
_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}


@dataclass(frozen=True, slots=True)
class Need:
    """A field the SDK requires: its JSON kind, whether null is allowed, whether it may be missing, and for an
    object (or each object of a list) the fields it requires in turn."""

    name: str
    kind: str
    nullable: bool = False
    optional: bool = False
    fields: tuple[Need, ...] = ()


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return _NAMES.get(type(value), type(value).__name__)


def _fits(value: Any, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("int", "number"):
        return False
    return isinstance(value, _KINDS[kind])


def _check(needs: Sequence[Need], value: Any, where: str) -> str | None:
    """What is wrong with the object `value` (at `where`), or None."""
    if not isinstance(value, dict):
        return f"{where or 'the answer'} is {_what(value)}, not an object"
    for need in needs:
        at = f"{where}.{need.name}" if where else need.name
        if need.name not in value:
            if need.optional:
                continue
            return f"{at} is missing"
        item = value[need.name]
        if item is None:
            if need.nullable or need.optional:
                continue
            return f"{at} is null"
        if not _fits(item, need.kind):
            return f"{at} is {_what(item)}, not {_NAMES.get(_KINDS[need.kind][0], need.kind)}"
        if need.fields and need.kind == "object":
            problem = _check(need.fields, item, at)
            if problem:
                return problem
        if need.fields and need.kind == "list":
            for index, element in enumerate(item):
                problem = _check(need.fields, element, f"{at}[{index}]")
                if problem:
                    return problem
    return None


def _n(name: str, kind: str, *fields: Need, nullable: bool = False, optional: bool = False) -> Need:
    return Need(name, kind, nullable, optional, tuple(fields))


# --- openai-python ---------------------------------------------------------------------------------------

_HEAD = (_n("id", "str"), _n("created", "int"), _n("model", "str"), _n("object", "str"))
CHAT_COMPLETION = (
    *_HEAD,
    _n(
        "choices",
        "list",
        _n("index", "int"),
        _n("finish_reason", "str", nullable=True),
        _n("message", "object", _n("role", "str"), _n("content", "str", nullable=True, optional=True)),
    ),
)
CHAT_CHUNK = (
    *_HEAD,
    _n(
        "choices",
        "list",
        _n("index", "int"),
        _n("delta", "object", _n("content", "str", nullable=True, optional=True)),
        _n("finish_reason", "str", nullable=True, optional=True),
    ),
)
COMPLETION = (
    *_HEAD,
    _n("choices", "list", _n("index", "int"), _n("text", "str"), _n("finish_reason", "str", nullable=True)),
)
EMBEDDINGS = (
    _n("data", "list", _n("embedding", "text-or-list"), _n("index", "int")),
    _n("model", "str"),
    _n("object", "str"),
    _n("usage", "object", _n("prompt_tokens", "int"), _n("total_tokens", "int")),
)
MODEL = (_n("id", "str"), _n("created", "int"), _n("object", "str"), _n("owned_by", "str"))
MODEL_LIST = (_n("data", "list", *MODEL),)
RESPONSE = (
    _n("id", "str"),
    _n("object", "str"),
    _n("created_at", "number"),
    _n("model", "str"),
    _n("output", "list"),
)

# --- ollama-python (pydantic models: it validates these itself) -----------------------------------------

OLLAMA_CHAT = (_n("message", "object", _n("role", "str"), _n("content", "str", nullable=True, optional=True)),)
OLLAMA_GENERATE = (_n("response", "str"),)
OLLAMA_EMBED = (_n("embeddings", "list"),)
OLLAMA_EMBEDDINGS = (_n("embedding", "list"),)
OLLAMA_MODELS = (_n("models", "list"),)

# --- the http passthrough ----------------------------------------------------------------------------------

ANTHROPIC_MESSAGE = (
    _n("id", "str"),
    _n("type", "str"),
    _n("role", "str"),
    _n("content", "list", _n("type", "str")),
    _n("model", "str"),
    _n("usage", "object", _n("input_tokens", "int"), _n("output_tokens", "int")),
)
GEMINI_INTERACTION = (_n("id", "str"), _n("status", "str", optional=True))

BY_TYPE: dict[str, tuple[Need, ...]] = {
    "openai.types.chat.chat_completion.ChatCompletion": CHAT_COMPLETION,
    "openai.types.chat.chat_completion_chunk.ChatCompletionChunk": CHAT_CHUNK,
    "openai.types.completion.Completion": COMPLETION,
    "openai.types.create_embedding_response.CreateEmbeddingResponse": EMBEDDINGS,
    "openai.types.responses.response.Response": RESPONSE,
    "ollama._types.ChatResponse": OLLAMA_CHAT,
    "ollama._types.GenerateResponse": OLLAMA_GENERATE,
    "ollama._types.EmbedResponse": OLLAMA_EMBED,
    "ollama._types.EmbeddingsResponse": OLLAMA_EMBEDDINGS,
    "ollama._types.ListResponse": OLLAMA_MODELS,
    "ollama._types.ProcessResponse": OLLAMA_MODELS,
}
# Responses stream events that carry the whole response.
_LIFECYCLE = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.completed",
        "response.failed",
        "response.incomplete",
    }
)


def _event_problem(event: Any, where: str) -> str | None:
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return f"{where} is {_what(event)} without a `type`, not a Responses event"
    if event_kind(event) in _LIFECYCLE:
        return _check((_n("response", "object", _n("id", "str"), _n("output", "list")),), event, where)
    return None


def _lines_problem(call: Call, lines: Sequence[Any]) -> str | None:
    """A passthrough event stream: every `data:` line a JSON object (or `[DONE]`); a Messages stream's
    `message_start` carries its message."""
    import orjson

    for index, line in enumerate(lines):
        if not isinstance(line, str) or not line.startswith("data:"):
            continue
        text = line[5:].strip()
        if text == "[DONE]":
            continue
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            return f"line {index + 1} of the stream is not JSON"
        if not isinstance(data, dict):
            return f"line {index + 1} of the stream is {_what(data)}, not an event object"
        if call.dialect == "anthropic" and data.get("type") == "message_start":
            problem = _check((_n("message", "object", _n("id", "str"), _n("role", "str")),), data, "message_start")
            if problem:
                return problem
    return None


def answer_problem(call: Call, items: Sequence[Any], status: int) -> str | None:
    """What makes the decoded answer of `call` (one object, or every chunk or event of a stream, or a
    passthrough stream's lines) unlike the API's answer for its endpoint; None when it has the shape."""
    if call.passthrough:
        if call.streaming:
            return _lines_problem(call, items)
        body = items[0] if len(items) == 1 else None
        if not 200 <= status < 300:
            return None if isinstance(body, dict) else f"the error answer is {_what(body)}, not an object"
        message: tuple[Need, ...] = ANTHROPIC_MESSAGE if call.dialect == "anthropic" else GEMINI_INTERACTION
        return _check(message, body, "")
    if call.model_list:
        return _check(MODEL_LIST, items[0] if len(items) == 1 else None, "")
    if call.events:
        for index, event in enumerate(items):
            problem = _event_problem(event, f"event {index + 1}")
            if problem:
                return problem
        return None
    needs = BY_TYPE.get(call.type_name)
    if needs is None:
        return None
    if call.streaming:
        for index, chunk in enumerate(items):
            problem = _check(needs, chunk, f"chunk {index + 1}")
            if problem:
                return problem
        return None if items else "the stream held no chunk"
    if len(items) != 1:
        return f"expected one JSON answer, got {len(items)}"
    return _check(needs, items[0], "")
