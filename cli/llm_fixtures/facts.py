"""Derived facts of one recording (kind, endpoint, model, provider, test, size, ...), computed once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args
from urllib.parse import SplitResult, urlsplit

from llm_fixtures.escaping import printable
from llm_fixtures.kinds import RequestKind, request_kind

Era = Literal["current", "isolated", "legacy"]

# The endpoints of model lists (their files are named `models-<hash>-<digest8>.json`).
MODEL_LIST_ENDPOINTS = frozenset({"/v1/models", "/api/tags", "/v1/openai/v1/models"})
_MODELS_NAME = re.compile(r"models-([0-9a-f]{64})-([0-9a-f]{8})")


@dataclass(frozen=True, slots=True)
class Facts:
    """What `ls`, the filters and every other command know about a recording without reading it again.

    A plain dataclass, not a pydantic model: `fixtures ls` builds thousands of them from its cache, and its
    start-up must not pay for pydantic. orjson serializes it directly (`as_json`).
    """

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
# Patterns as text: compiled (and cached by `re`) on first use, so that a warm `ls` never compiles them.
_PROVIDER_RULES: tuple[tuple[str, str], ...] = (
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


def provider_of(url: str | None, *, endpoint: str = "", tool_provider: str | None = None) -> str | None:
    """The provider named by a URL's host (and, for Ollama's native API, its path)."""
    if tool_provider:
        return tool_provider
    if not url:
        return None
    if url.startswith("__databricks__"):
        return "databricks"
    parts = split_url(url)
    if parts is None:
        return None
    return _provider_of_host(parts.scheme, parts.netloc.lower(), endpoint.startswith("/api/"))


def split_url(url: str) -> SplitResult | None:
    """The parts of a URL, or None when it cannot be parsed (`http://[::1`): a URL in a file is data."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def check_url(url: Any, path: str) -> None:
    """A request URL no parser can read (`http://[::1`) makes a broken recording: BadRecording, not a crash
    further on."""
    if isinstance(url, str) and split_url(url) is None:
        from llm_fixtures.errors import BadRecording

        raise BadRecording(path, "not a recording: request.url: not a valid URL")


def _url_path(url: str | None) -> str:
    parts = split_url(url or "")
    return parts.path if parts is not None else ""


@lru_cache(maxsize=256)
def _provider_of_host(scheme: str, host: str, ollama_path: bool) -> str | None:
    # A corpus has a handful of hosts: the rules run once per host, not once per file.
    host = host or scheme.lower()
    if scheme == "vertexai":
        return "vertexai"
    if host.startswith("__databricks__"):
        return "databricks"
    for pattern, provider in _PROVIDER_RULES:
        if re.search(pattern, host):
            return provider
    if ollama_path:
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
        return _str(item.get("__type__"))
    return None


def _str(value: Any) -> str | None:
    """A string of the file as a fact: shown, filtered on, cached and printed as JSON, so a lone surrogate
    (valid in JSON, refused by UTF-8) is written as its escape, `\\ud800`."""
    if not isinstance(value, str):
        return None
    return value if value.isascii() else printable(value)


def derive_facts(path: str, size: int, raw: dict[str, Any]) -> Facts:
    """The facts of a recording stored at `path` (as displayed) with `size` bytes. `raw` is the parsed file,
    already known to be valid (`is_plainly_valid`, or the dump of a validated `RecordingFile`); BadRecording
    for a request URL that cannot be parsed."""
    request: dict[str, Any] = raw["request"]
    response: dict[str, Any] = raw["response"]
    kind = request_kind(request)
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    test_id = _str(raw.get("test_id"))
    if test_id is None and kind != "inference":
        test_id = _str(request.get("test_id"))
    url = _str(request.get("url"))
    check_url(url, path)
    model: str | None = None
    tool_provider: str | None = None
    if kind is RequestKind.inference:
        endpoint = _str(request.get("endpoint")) or _url_path(url)
        model = _str(request.get("model"))
        body = request.get("body")
        if not model and isinstance(body, dict) and isinstance(body.get("model"), str):
            model = _str(body["model"])
    elif kind is RequestKind.http:
        endpoint = _url_path(url)
        payload = request.get("payload")
        if isinstance(payload, dict):
            model = _str(payload.get("model"))
    elif kind is RequestKind.tool:
        tool_provider = _str(request.get("provider"))
        tool_name = _str(request.get("tool_name")) or ""
        endpoint = f"{tool_provider}.{tool_name}" if tool_provider else tool_name
    else:
        tool_provider = _str(request.get("provider"))
        endpoint = _str(request.get("api")) or ""
    body = response.get("body")
    streaming = response.get("is_streaming") is True
    chunks = len(body) if streaming and isinstance(body, list) else 0
    test_file, test_function = split_test_id(test_id)
    status = response.get("status")
    # A status is a small number; anything orjson cannot write (beyond 64 bits) is no status at all.
    status = status if type(status) is int and -(2**63) <= status < 2**63 else None
    error = response.get("is_exception") is True or (status is not None and status >= 400)
    return Facts(
        path=path,
        name=name,
        hash=hash_of_name(name),
        kind=kind,
        endpoint=endpoint,
        model=model,
        provider=provider_of(url, endpoint=endpoint, tool_provider=tool_provider),
        url=url if kind in (RequestKind.inference, RequestKind.http) else None,
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
        era=era_of(set(raw)),
    )


# Field types the models accept, by request kind, for the fast check below: (key, types, required).
_NONE = type(None)
_REQUEST_FIELDS: dict[RequestKind, tuple[tuple[str, tuple[type, ...], bool], ...]] = {
    RequestKind.inference: (
        ("method", (str,), False),
        ("url", (str,), False),
        ("headers", (dict, _NONE), False),
        ("endpoint", (str,), False),
        ("model", (str, _NONE), False),
        ("provider_metadata", (dict, _NONE), False),
    ),
    RequestKind.http: (("test_id", (str, _NONE), False), ("url", (str,), True), ("method", (str,), False)),
    RequestKind.tool: (
        ("test_id", (str, _NONE), False),
        ("provider", (str, _NONE), False),
        ("tool_name", (str,), True),
    ),
    RequestKind.file_processor: (
        ("test_id", (str, _NONE), False),
        ("provider", (str, _NONE), False),
        ("api", (str,), True),
        ("file_id", (str, _NONE), False),
    ),
}
_RESPONSE_FIELDS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("is_streaming", (bool,)),
    ("status", (int, _NONE)),
    ("is_exception", (bool, _NONE)),
    ("exception_data", (dict, _NONE)),
    ("exception_message", (str, _NONE)),
)


def is_plainly_valid(raw: Any) -> bool:
    """True when `raw` is a recording whose every modelled field already has its exact type, so the pydantic
    models (`models.RecordingFile`) would accept it as it is. A False says nothing: validate with the models to
    learn what, if anything, is wrong. Keeps `ls` free of pydantic on well-formed files."""
    if not isinstance(raw, dict):
        return False
    request = raw.get("request")
    response = raw.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        return False
    if not isinstance(raw.get("test_id"), str | _NONE):
        return False
    if not isinstance(raw.get("id_normalization_mapping"), dict | _NONE):
        return False
    for key, types, required in _REQUEST_FIELDS[request_kind(request)]:
        if key in request:
            if not isinstance(request[key], types):
                return False
        elif required:
            return False
    for key, types in _RESPONSE_FIELDS:
        if key in response and not isinstance(response[key], types):
            return False
    status = response.get("status")
    return not isinstance(status, bool)


FIELDS: tuple[str, ...] = tuple(Facts.__dataclass_fields__)


_KIND_OF: dict[str, RequestKind] = {kind.value: kind for kind in RequestKind}
_ERAS = frozenset(get_args(Era))


def to_row(facts: Facts) -> list[Any]:
    """The facts as a list of plain JSON values without the path (which depends on where they are shown from)."""
    row = [getattr(facts, name) for name in FIELDS[1:]]
    row[2] = facts.kind.value
    return row


def from_row(path: str, row: list[Any]) -> Facts:
    """The facts of a row `is_row` accepted (or `to_row` made)."""
    return Facts(path, row[0], row[1], _KIND_OF[row[2]], *row[3:])


# The types a row may hold, field by field (after the path): a row read back from the cache is data from disk.
_ROW_FIELD_TYPES: tuple[tuple[type, ...], ...] = (
    (str,),  # name
    (str,),  # hash
    (str,),  # kind
    (str,),  # endpoint
    (str, _NONE),  # model
    (str, _NONE),  # provider
    (str, _NONE),  # url
    (bool,),  # streaming
    (int,),  # chunks
    (str, _NONE),  # test_id
    (str, _NONE),  # test_file
    (str, _NONE),  # test_function
    (str, _NONE),  # suite
    (int,),  # bytes
    (bool,),  # model_list
    (bool,),  # error
    (int, _NONE),  # status
    (str, _NONE),  # body_type
    (str,),  # era
)


_row_signatures: frozenset[tuple[type, ...]] = frozenset()  # every combination of the types above, made once


def is_row(value: Any) -> bool:
    """Whether `value` has the shape `to_row` gives: a list of exactly these fields, each of its type (checked
    as one set lookup of the value types: a warm `ls` checks every row it takes from the cache), the kind and
    the era one of theirs."""
    global _row_signatures
    if not _row_signatures:
        from itertools import product

        _row_signatures = frozenset(product(*_ROW_FIELD_TYPES))
    return (
        type(value) is list
        and tuple(map(type, value)) in _row_signatures
        and value[2] in _KIND_OF
        and value[-1] in _ERAS
    )


def as_json(facts: Facts) -> bytes:
    """One JSON object (no newline)."""
    import orjson

    return orjson.dumps(facts)
