"""Facts of a cassette and of each of its interactions (endpoint, model, provider, streaming, status, test)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from llm_fixtures.cassettes.bodies import as_bytes, content_decoded, json_of
from llm_fixtures.cassettes.model import Body, Cassette, Interaction, Message, first_header
from llm_fixtures.cassettes.naming import node_id_of_path, suite_of_cassette
from llm_fixtures.facts import provider_of, split_test_id

# A model named by the URL path: Gemini and Vertex (`models/<m>:generateContent`), Bedrock (`/model/<m>/invoke`).
_PATH_MODEL = re.compile(r"/models?/([^/:]+)(?::[A-Za-z]+|/invoke|/converse)")
_STREAM_PATHS = (":streamGenerateContent", "/invoke-with-response-stream", "/converse-stream")
_STREAM_TYPES = (
    "text/event-stream",
    "application/x-ndjson",
    "application/stream+json",
    "application/vnd.amazon.eventstream",
)


@dataclass(frozen=True, slots=True)
class InteractionFacts:
    """What `ls --interactions` shows of one interaction (or one WebSocket message). The test and kind fields
    are the cassette's, so that `ls`'s filters and sort keys read an interaction as they read a recording."""

    path: str
    interaction: int
    format: str
    test_id: str | None
    test_file: str | None
    test_function: str | None
    suite: str | None
    kind: str
    method: str
    url: str | None
    endpoint: str
    model: str | None
    provider: str | None
    streaming: bool
    chunks: int
    status: int | None
    error: bool
    content_type: str | None
    request_bytes: int
    response_bytes: int
    bytes: int


@dataclass(frozen=True, slots=True)
class CassetteFacts:
    """What `ls` shows of one cassette: its format, how many interactions, and what they are about (the first
    endpoint, model and provider, with every distinct one in `endpoints`, `models`, `providers`)."""

    path: str
    name: str
    kind: str
    format: str
    style: str
    compressed: bool
    interactions: int
    endpoint: str
    model: str | None
    provider: str | None
    endpoints: tuple[str, ...]
    models: tuple[str, ...]
    providers: tuple[str, ...]
    streaming: bool
    chunks: int
    test_id: str | None
    test_file: str | None
    test_function: str | None
    suite: str | None
    bytes: int
    error: bool
    status: int | None
    problems: int


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _model_of(interaction: Interaction, request_json: Any, path: str) -> str | None:
    if isinstance(request_json, dict):
        model = _str(request_json.get("model"))
        if model:
            return model
    match = _PATH_MODEL.search(path)
    if match:
        return unquote(match.group(1))
    if interaction.response.body.has_parsed:
        parsed = interaction.response.body.parsed
        if isinstance(parsed, dict):
            return _str(parsed.get("model")) or _str(parsed.get("modelVersion"))
    return None


def _count_events(interaction: Interaction, content_type: str) -> int:
    """Data events of an SSE body, lines of an NDJSON one (`[DONE]` not counted)."""
    body = interaction.response.body
    raw = body.raw
    if raw is None:
        return 0
    data = as_bytes(raw)
    if isinstance(raw, bytes):
        data, _notes = content_decoded(raw, interaction.response.headers)
    if content_type.startswith("text/event-stream") or data.lstrip().startswith((b"data:", b"event:")):
        count = sum(1 for line in data.splitlines() if line.startswith(b"data:"))
        return count - data.count(b"data: [DONE]")
    if "json" in content_type:
        return sum(1 for line in data.splitlines() if line.strip())
    return 0


@dataclass(frozen=True, slots=True)
class _Test:
    format: str
    test_id: str | None
    test_file: str | None
    test_function: str | None
    suite: str | None


def _test_of(path: str, format_: str) -> _Test:
    test_id = node_id_of_path(path)
    test_file, test_function = split_test_id(test_id)
    return _Test(format_, test_id, test_file, test_function, suite_of_cassette(path))


def describe_interaction(path: str, interaction: Interaction, test: _Test | None = None) -> InteractionFacts:
    """The facts of one HTTP interaction: endpoint and provider from the URI, model from the request body (or
    the URI path), streaming from the request's `stream`, the URI or the response's content type."""
    request, response = interaction.request, interaction.response
    url = request.uri or None
    parts = urlsplit(request.uri) if request.uri else None
    endpoint = parts.path if parts is not None else ""
    request_json = json_of(request.body, request.headers)
    model = _model_of(interaction, request_json, endpoint)
    content_type = (first_header(response.headers, "content-type") or "").lower()
    streaming = (
        content_type.startswith(_STREAM_TYPES)
        or any(marker in endpoint for marker in _STREAM_PATHS)
        or (isinstance(request_json, dict) and request_json.get("stream") is True)
    )
    if not streaming and _looks_ndjson(response.body.raw):
        streaming = True  # Ollama answers a stream as lines of JSON, often under `application/json`
    chunks = _count_events(interaction, content_type) if streaming else 0
    status = response.status
    test = test or _test_of(path, "vcr")
    request_bytes, response_bytes = _size(request.body), _size(response.body)
    return InteractionFacts(
        path=path,
        interaction=interaction.index,
        format=test.format,
        test_id=test.test_id,
        test_file=test.test_file,
        test_function=test.test_function,
        suite=test.suite,
        kind="cassette",
        method=request.method,
        url=url,
        endpoint=endpoint if url else request.method,
        model=model,
        provider=provider_of(url, endpoint=endpoint) if url else None,
        streaming=streaming,
        chunks=chunks,
        status=status,
        error=status is not None and status >= 400,
        content_type=content_type.split(";", 1)[0] or None,
        request_bytes=request_bytes,
        response_bytes=response_bytes,
        bytes=request_bytes + response_bytes,
    )


def _looks_ndjson(raw: str | bytes | None) -> bool:
    return isinstance(raw, str) and raw.lstrip().startswith("{") and "}\n{" in raw


def _size(body: Body) -> int:
    """The bytes of a body as stored: its text or bytes, or (pydantic-ai's `parsed_body`) its JSON."""
    raw = body.raw
    if raw is None:
        if not body.has_parsed:
            return 0
        try:
            return len(orjson.dumps(body.parsed, option=orjson.OPT_NON_STR_KEYS))
        except (TypeError, orjson.JSONEncodeError):
            return 0
    return len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogateescape"))


def _message_name(data: Any) -> str:
    """What a realtime frame is: its `type` (OpenAI), else its only top-level key (Gemini Live: `setup`,
    `serverContent`, ...)."""
    if isinstance(data, dict):
        kind = data.get("type")
        if isinstance(kind, str):
            return kind
        if data:
            return ",".join(str(key) for key in list(data)[:2])
    return type(data).__name__


def _message_model(data: Any) -> str | None:
    if not isinstance(data, dict):
        return None
    for holder in (data.get("setup"), data.get("session"), data):
        if isinstance(holder, dict):
            model = _str(holder.get("model"))
            if model:
                return model.removeprefix("models/")
    return None


def describe_message(path: str, message: Message, test: _Test | None = None) -> InteractionFacts:
    """The facts of one WebSocket frame: its direction and name stand for method and endpoint."""
    name = f"close {message.code}" if message.kind == "close" else _message_name(message.data)
    test = test or _test_of(path, "websocket")
    return InteractionFacts(
        path=path,
        interaction=message.index,
        format=test.format,
        test_id=test.test_id,
        test_file=test.test_file,
        test_function=test.test_function,
        suite=test.suite,
        kind="cassette",
        method=message.direction or message.kind,
        url=None,
        endpoint=name,
        model=_message_model(message.data),
        provider=None,
        streaming=False,
        chunks=0,
        status=message.code,
        error=message.kind == "close" and message.code not in (None, 1000),
        content_type=None,
        request_bytes=0,
        response_bytes=0,
        bytes=0,
    )


def describe_interactions(cassette: Cassette) -> list[InteractionFacts]:
    test = _test_of(cassette.path, cassette.format)
    if cassette.format == "websocket":
        return [describe_message(cassette.path, message, test) for message in cassette.messages]
    return [describe_interaction(cassette.path, interaction, test) for interaction in cassette.interactions]


def _distinct(values: list[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def describe_cassette(cassette: Cassette, size: int, rows: list[InteractionFacts] | None = None) -> CassetteFacts:
    """The facts of a cassette, from those of its interactions (`rows`, computed when not given)."""
    rows = describe_interactions(cassette) if rows is None else rows
    path = cassette.path
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    endpoints = _distinct([row.endpoint for row in rows]) if cassette.format != "websocket" else ("websocket",)
    models = _distinct([row.model for row in rows])
    providers = _distinct([row.provider for row in rows])
    errors = [row.status for row in rows if row.error]
    test = _test_of(path, cassette.format)
    return CassetteFacts(
        path=path,
        name=name,
        kind="cassette",
        format=cassette.format,
        style=cassette.style,
        compressed=cassette.compressed,
        interactions=cassette.count,
        endpoint=endpoints[0] if endpoints else "",
        model=models[0] if models else None,
        provider=providers[0] if providers else None,
        endpoints=endpoints,
        models=models,
        providers=providers,
        streaming=any(row.streaming for row in rows),
        chunks=sum(row.chunks for row in rows),
        test_id=test.test_id,
        test_file=test.test_file,
        test_function=test.test_function,
        suite=test.suite,
        bytes=size,
        error=bool(errors) or bool(cassette.problems),
        status=errors[0] if errors else None,
        problems=len(cassette.problems),
    )
