"""Recordings for tests, built as the upstream recorder writes them and written in its style: the one place the
test modules make recording JSON (a module keeps its own defaults in a small function over these)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_fixtures.decoding import dump_upstream
from llm_fixtures.hashing import request_key_name

CHAT_COMPLETION = "openai.types.chat.chat_completion.ChatCompletion"
CHAT_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
MODEL = "openai.types.model.Model"


def typed(type_name: str, data: Any) -> dict[str, Any]:
    """An SDK object as the recorder stores it: its class path and its fields."""
    return {"__type__": type_name, "__data__": data}


def chat_chunk(**data: Any) -> dict[str, Any]:
    return typed(CHAT_CHUNK, data)


def sdk_request(url: str, endpoint: str, body: Any, *, model: str | None = None, **extra: Any) -> dict[str, Any]:
    """The request of an SDK call: `url` is the SDK base URL plus `endpoint` (hence upstream's `/v1/v1/...`); the
    model is the body's unless given; `extra` keys (`provider_metadata`) come last."""
    if model is None:
        model = body.get("model", "") if isinstance(body, dict) else ""
    return {"method": "POST", "url": url, "headers": {}, "body": body, "endpoint": endpoint, "model": model, **extra}


def http_request(url: str, payload: Any, *, test_id: str | None) -> dict[str, Any]:
    """The request of an http passthrough call (the recorder's httpx patch: Messages, Interactions)."""
    return {"test_id": test_id, "url": url, "method": "POST", "payload": payload}


def recording(
    request: dict[str, Any],
    body: Any,
    *,
    test_id: str | None,
    streaming: bool = False,
    status: int | None = None,
    mapping: bool = True,
) -> dict[str, Any]:
    """A recording file's content: `test_id` (null for a call outside any test), the request, the response (with
    `status` first when given, as http recordings have it) and, with `mapping`, an empty `id_normalization_mapping`
    (the key the current era writes)."""
    response: dict[str, Any] = {} if status is None else {"status": status}
    response |= {"body": body, "is_streaming": streaming}
    raw: dict[str, Any] = {"test_id": test_id, "request": request, "response": response}
    if mapping:
        raw["id_normalization_mapping"] = {}
    return raw


def without_test_id(raw: dict[str, Any]) -> dict[str, Any]:
    """The same recording with no `test_id` key at all (as the recorder wrote them before it had one)."""
    return {key: value for key, value in raw.items() if key != "test_id"}


def write_recording(path: Path, raw: Any) -> Path:
    """`raw` at `path` as the upstream recorder writes it (indent 2, ASCII escapes, a final newline), folders made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump_upstream(raw))
    return path


def write_named(folder: Path, raw: dict[str, Any]) -> Path:
    """`raw` in `folder` under the name the current rule gives its request (the name replay looks for)."""
    name = request_key_name(raw)
    assert name is not None, "the current rule gives this recording no name"
    return write_recording(folder / name, raw)


def strings_in(value: Any) -> list[str]:
    """Every string of a parsed JSON value, depth first."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []
