"""Derived facts of one recording (kind, endpoint, model, provider, test, size, ...), computed once."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel

from llm_fixtures.models import (
    FileProcessorRequest,
    HttpRequest,
    InferenceRequest,
    RecordingFile,
    RequestKind,
    ToolRequest,
)

Era = Literal["current", "isolated", "legacy"]

MODEL_LIST_ENDPOINTS = frozenset({"/v1/models", "/api/tags", "/v1/openai/v1/models"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MODELS_NAME = re.compile(r"models-([0-9a-f]{64})-([0-9a-f]{8})")


class Facts(BaseModel):
    """What `ls`, the filters and every other command know about a recording without reading it again."""

    path: str
    name: str
    hash: str
    kind: RequestKind
    endpoint: str
    model: str | None
    provider: str | None
    url: str | None
    streaming: bool
    chunks: int
    test_id: str | None
    test_file: str | None
    test_function: str | None
    suite: str | None
    bytes: int
    model_list: bool
    error: bool
    status: int | None
    body_type: str | None
    era: Era


# (host or path marker, provider); the first match wins, so specific hosts come before generic ports.
_PROVIDER_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), provider)
    for pattern, provider in (
        (r"\.openai\.azure\.com$|\.azure\.com$|azure", "azure"),
        (r"(^|\.)api\.openai\.com$", "openai"),
        (r"bedrock", "bedrock"),
        (r"\.ml\.cloud\.ibm\.com$|watsonx", "watsonx"),
        (r"^vertexai$|aiplatform\.googleapis\.com$", "vertexai"),
        (r"generativelanguage\.googleapis\.com$", "gemini"),
        (r"(^|\.)api\.anthropic\.com$", "anthropic"),
        (r"tavily", "tavily"),
        (r"(^|\.)api\.groq\.com$", "groq"),
        (r"(^|\.)api\.together\.(xyz|ai)$", "together"),
        (r"(^|\.)api\.fireworks\.ai$", "fireworks"),
        (r"(^|\.)openrouter\.ai$", "openrouter"),
        (r"(^|\.)api\.deepseek\.com$", "deepseek"),
        (r"(^|\.)api\.mistral\.ai$", "mistral"),
        (r"(^|\.)api\.cerebras\.ai$", "cerebras"),
        (r"databricks", "databricks"),
        (r"snowflakecomputing\.com$", "snowflake"),
        (r"nvidia", "nvidia"),
        (r":11434$", "ollama"),
        (r":8000$", "vllm"),
        (r":8080$", "llama.cpp"),
    )
)


def provider_of(url: str | None, *, endpoint: str = "", tool_provider: str | None = None) -> str | None:
    """The provider named by a URL's host (and, for Ollama's native API, its path)."""
    if tool_provider:
        return tool_provider
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.netloc or parts.scheme).lower()
    if parts.scheme == "vertexai":
        return "vertexai"
    if host.startswith("__databricks__") or url.startswith("__databricks__"):
        return "databricks"
    for pattern, provider in _PROVIDER_RULES:
        if pattern.search(host):
            return provider
    if endpoint.startswith("/api/"):
        return "ollama"
    return host or None


def split_test_id(test_id: str | None) -> tuple[str | None, str | None]:
    """`(test file, function)` of a pytest node id; the function keeps its class (`Class::method`)
    and loses its parameters."""
    if not test_id:
        return None, None
    file_part, sep, rest = test_id.partition("::")
    if not sep:
        return file_part or None, None
    function = rest.split("[", 1)[0]
    return file_part or None, function or None


def suite_of(path: str) -> str | None:
    """The folder that holds the `recordings` folder a file is in (`responses` for
    `tests/integration/responses/recordings/x.json`); for the old `recordings/responses/` layout, the folder
    above that `recordings`."""
    parts = path.replace("\\", "/").split("/")[:-1]
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] == "recordings":
            return parts[index - 1] if index > 0 else None
    return parts[-1] if parts else None


def hash_of_name(name: str) -> str:
    """The request hash a file name carries: the 64 (or legacy 12) hex digits, without `models-` or the digest."""
    stem = name[:-5] if name.endswith(".json") else name
    match = _MODELS_NAME.fullmatch(stem)
    if match:
        return match.group(1)
    return stem


def era_of(raw_keys: set[str]) -> Era:
    if "id_normalization_mapping" in raw_keys:
        return "current"
    if "test_id" in raw_keys:
        return "isolated"
    return "legacy"


def _first_type(body: Any) -> str | None:
    item = body[0] if isinstance(body, list) and body else body
    if isinstance(item, dict):
        type_name = item.get("__type__")
        if isinstance(type_name, str):
            return type_name
    return None


def derive_facts(path: str, size: int, file: RecordingFile, raw_keys: set[str]) -> Facts:
    """The facts of a validated recording file stored at `path` (as displayed) with `size` bytes."""
    request = file.request
    response = file.response
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    test_id = file.test_id
    url: str | None = None
    model: str | None = None
    tool_provider: str | None = None
    if isinstance(request, InferenceRequest):
        kind: RequestKind = "inference"
        endpoint = request.endpoint or urlsplit(request.url).path
        url = request.url
        model = request.model if request.model is not None else None
        if not model and isinstance(request.body, dict):
            body_model = request.body.get("model")
            model = body_model if isinstance(body_model, str) else model
    elif isinstance(request, HttpRequest):
        kind = "http"
        url = request.url
        endpoint = urlsplit(request.url).path
        if isinstance(request.payload, dict) and isinstance(request.payload.get("model"), str):
            model = request.payload["model"]
        test_id = test_id if test_id is not None else request.test_id
    elif isinstance(request, ToolRequest):
        kind = "tool"
        tool_provider = request.provider
        endpoint = f"{request.provider}.{request.tool_name}" if request.provider else request.tool_name
        test_id = test_id if test_id is not None else request.test_id
    else:
        assert isinstance(request, FileProcessorRequest)
        kind = "file-processor"
        tool_provider = request.provider
        endpoint = request.api
        test_id = test_id if test_id is not None else request.test_id
    body = response.body
    streaming = bool(response.is_streaming)
    chunks = len(body) if streaming and isinstance(body, list) else 0
    test_file, test_function = split_test_id(test_id)
    status = response.status
    error = bool(response.is_exception) or (status is not None and status >= 400)
    return Facts(
        path=path,
        name=name,
        hash=hash_of_name(name),
        kind=kind,
        endpoint=endpoint,
        model=model,
        provider=provider_of(url, endpoint=endpoint, tool_provider=tool_provider),
        url=url,
        streaming=streaming,
        chunks=chunks,
        test_id=test_id,
        test_file=test_file,
        test_function=test_function,
        suite=suite_of(path),
        bytes=size,
        model_list=endpoint in MODEL_LIST_ENDPOINTS or name.startswith("models-"),
        error=error,
        status=status,
        body_type=_first_type(body),
        era=era_of(raw_keys),
    )
