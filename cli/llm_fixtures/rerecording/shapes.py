"""The fields of the SDK objects the upstream recorder stores, so a re-recorded body has every field (nulls kept).

The recorder stores `{"__type__": "<module>.<QualName>", "__data__": obj.model_dump(mode="json")}`. A dump has
every declared field of the class, in declaration order, `null` when the wire lacked it; the OpenAI SDK keeps
unknown wire keys after them (its models allow extras), the Ollama SDK drops them. These tables copy the
declarations of openai-python 2.x and ollama-python 0.6 (`ollama/_types.py`); nothing here imports either SDK.

The Responses API objects (`Response` and its stream events) are kept as the server sent them, every key in its
order, with no declared fields added: their declarations (some thirty top-level fields and deep unions of output
items, tools and content parts) change with nearly every SDK release, and a stale copy would add or reorder
fields wrongly. What differs from an SDK dump: the key order (the SDK dumps declaration order, the wire has its
own), and the fields the SDK declares but the server left out (the dump has them as null; this body does not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from llm_fixtures.ollamafields import METRICS
from llm_fixtures.rerecording.responses_types import EVENT_CLASSES, RESPONSE


@dataclass(frozen=True, slots=True)
class Shape:
    """An SDK model: its declared fields in order (each with the shape of its value, or None for a plain value),
    and whether unknown keys survive."""

    fields: tuple[tuple[str, Spec], ...]
    extras: bool = True


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Spec


@dataclass(frozen=True, slots=True)
class Tagged:
    """A union told apart by one key (`type`), with a fallback for values that name no known member."""

    key: str
    members: Mapping[str, Shape] = field(default_factory=dict)
    default: Shape | None = None


@dataclass(frozen=True, slots=True)
class DateTime:
    """A `datetime` field: pydantic re-serializes it (ISO 8601, microseconds, `Z` for UTC)."""


Spec = Shape | ListOf | Tagged | DateTime | None


def _shape(*fields: tuple[str, Spec] | str, extras: bool = True) -> Shape:
    return Shape(tuple((f, None) if isinstance(f, str) else f for f in fields), extras)


# --- openai-python ---------------------------------------------------------------------------------------

_TOP_LOGPROB = _shape("token", "bytes", "logprob")
_TOKEN_LOGPROB = _shape("token", "bytes", "logprob", ("top_logprobs", ListOf(_TOP_LOGPROB)))
_CHOICE_LOGPROBS = _shape(("content", ListOf(_TOKEN_LOGPROB)), ("refusal", ListOf(_TOKEN_LOGPROB)))
_USAGE = _shape(
    "completion_tokens",
    "prompt_tokens",
    "total_tokens",
    (
        "completion_tokens_details",
        _shape("accepted_prediction_tokens", "audio_tokens", "reasoning_tokens", "rejected_prediction_tokens"),
    ),
    ("prompt_tokens_details", _shape("audio_tokens", "cached_tokens")),
)
_FUNCTION = _shape("arguments", "name")
_FUNCTION_TOOL_CALL = _shape("id", ("function", _FUNCTION), "type")
_TOOL_CALL = Tagged(
    "type",
    {"function": _FUNCTION_TOOL_CALL, "custom": _shape("id", ("custom", _shape("input", "name")), "type")},
    _FUNCTION_TOOL_CALL,
)
_MESSAGE = _shape(
    "content",
    "refusal",
    "role",
    (
        "annotations",
        ListOf(_shape("type", ("url_citation", _shape("end_index", "start_index", "title", "url")))),
    ),
    ("audio", _shape("id", "data", "expires_at", "transcript")),
    ("function_call", _FUNCTION),
    ("tool_calls", ListOf(_TOOL_CALL)),
)
# What ChatCompletion and ChatCompletionChunk declare after `choices`.
_CHAT_TAIL: tuple[tuple[str, Spec] | str, ...] = (
    "created",
    "model",
    "object",
    "service_tier",
    "system_fingerprint",
    ("usage", _USAGE),
)
CHAT_COMPLETION = _shape(
    "id",
    (
        "choices",
        ListOf(_shape("finish_reason", "index", ("logprobs", _CHOICE_LOGPROBS), ("message", _MESSAGE))),
    ),
    *_CHAT_TAIL,
)
_DELTA = _shape(
    "content",
    ("function_call", _FUNCTION),
    "refusal",
    "role",
    ("tool_calls", ListOf(_shape("index", "id", ("function", _FUNCTION), "type"))),
)
CHAT_COMPLETION_CHUNK = _shape(
    "id",
    ("choices", ListOf(_shape(("delta", _DELTA), "finish_reason", "index", ("logprobs", _CHOICE_LOGPROBS)))),
    *_CHAT_TAIL,
)
COMPLETION = _shape(
    "id",
    (
        "choices",
        ListOf(
            _shape(
                "finish_reason",
                "index",
                ("logprobs", _shape("text_offset", "token_logprobs", "tokens", "top_logprobs")),
                "text",
            )
        ),
    ),
    "created",
    "model",
    "object",
    "system_fingerprint",
    ("usage", _USAGE),
)
EMBEDDINGS = _shape(
    ("data", ListOf(_shape("embedding", "index", "object"))),
    "model",
    "object",
    ("usage", _shape("prompt_tokens", "total_tokens")),
)
MODEL = _shape("id", "created", "object", "owned_by")

# --- ollama-python ---------------------------------------------------------------------------------------

_OLLAMA_BASE = (
    "model",
    "created_at",
    "done",
    "done_reason",
    *METRICS,
)
_OLLAMA_TOOL_CALL = _shape(("function", _shape("name", "arguments", extras=False)), extras=False)
_OLLAMA_MESSAGE = _shape(
    "role",
    "content",
    "thinking",
    "images",
    "tool_name",
    ("tool_calls", ListOf(_OLLAMA_TOOL_CALL)),
    extras=False,
)
OLLAMA_GENERATE = _shape(*_OLLAMA_BASE, "response", "thinking", "context", extras=False)
OLLAMA_CHAT = _shape(*_OLLAMA_BASE, ("message", _OLLAMA_MESSAGE), extras=False)
OLLAMA_EMBED = _shape(*_OLLAMA_BASE, "embeddings", extras=False)
OLLAMA_EMBEDDINGS = _shape("embedding", extras=False)
_OLLAMA_DETAILS = _shape(
    "parent_model", "format", "family", "families", "parameter_size", "quantization_level", extras=False
)
OLLAMA_LIST = _shape(
    (
        "models",
        ListOf(
            _shape(
                "model",
                ("modified_at", DateTime()),
                "digest",
                "size",
                ("details", _OLLAMA_DETAILS),
                extras=False,
            )
        ),
    ),
    extras=False,
)
OLLAMA_PS = _shape(
    (
        "models",
        ListOf(
            _shape(
                "model",
                "name",
                "digest",
                ("expires_at", DateTime()),
                "size",
                "size_vram",
                ("details", _OLLAMA_DETAILS),
                "context_length",
                extras=False,
            )
        ),
    ),
    extras=False,
)

# --- Responses API: kept as sent (see the module docstring) ----------------------------------------------

AS_SENT = _shape()

# `__type__` string -> shape: the strings the recorder writes (`f"{cls.__module__}.{cls.__qualname__}"`).
TYPES: dict[str, Shape] = {
    RESPONSE: AS_SENT,
    **dict.fromkeys(EVENT_CLASSES.values(), AS_SENT),
    "openai.types.chat.chat_completion.ChatCompletion": CHAT_COMPLETION,
    "openai.types.chat.chat_completion_chunk.ChatCompletionChunk": CHAT_COMPLETION_CHUNK,
    "openai.types.completion.Completion": COMPLETION,
    "openai.types.create_embedding_response.CreateEmbeddingResponse": EMBEDDINGS,
    "openai.types.model.Model": MODEL,
    "ollama._types.GenerateResponse": OLLAMA_GENERATE,
    "ollama._types.ChatResponse": OLLAMA_CHAT,
    "ollama._types.EmbedResponse": OLLAMA_EMBED,
    "ollama._types.EmbeddingsResponse": OLLAMA_EMBEDDINGS,
    "ollama._types.ListResponse": OLLAMA_LIST,
    "ollama._types.ProcessResponse": OLLAMA_PS,
}

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _datetime(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return _DATETIME.dump_python(_DATETIME.validate_python(value), mode="json")
    except ValueError:
        return value


def fill(spec: Spec, value: Any) -> Any:
    """`value` as the SDK dumps it after building its object from the wire JSON `value`."""
    if value is None or spec is None:
        return value
    if isinstance(spec, DateTime):
        return _datetime(value)
    if isinstance(spec, ListOf):
        return [fill(spec.item, item) for item in value] if isinstance(value, list) else value
    if isinstance(spec, Tagged):
        if not isinstance(value, dict):
            return value
        member = spec.members.get(value.get(spec.key), spec.default)  # type: ignore[arg-type]
        return fill(member, value)
    if not isinstance(value, dict):
        return value
    out = {name: fill(sub, value.get(name)) for name, sub in spec.fields}
    if spec.extras:
        out.update((key, item) for key, item in value.items() if key not in out)
    return out


def envelope(type_name: str, wire: Any) -> dict[str, Any]:
    """The stored envelope of one SDK object built from its wire JSON."""
    return {"__type__": type_name, "__data__": fill(TYPES[type_name], wire)}
