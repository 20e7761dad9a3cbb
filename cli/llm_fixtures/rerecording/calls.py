"""Turning a stored request into the HTTP call its SDK made (method, real URL, JSON body, wire format), and the
answer into the recording the upstream recorder would write. Pure: no network, no disk.

Two families: SDK inference requests (`request.body`; OpenAI and Ollama), whose answers are stored as envelopes of
the SDK's objects, normalized; and the http passthrough (`request.payload`; Anthropic Messages and Gemini
Interactions sent with httpx), whose answers are stored as they came: the JSON body with its HTTP status, or the
raw lines of the event stream."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from llm_fixtures.facts import hash_of_name, provider_of
from llm_fixtures.hashing import model_list_digest
from llm_fixtures.normalizing import normalize_response
from llm_fixtures.rerecording.responses_types import RESPONSE, event_class
from llm_fixtures.rerecording.shapes import envelope

Dialect = Literal["openai", "ollama", "anthropic", "gemini"]
# `lines`: an event stream kept as the raw lines httpx's `aiter_lines()` gives (the passthrough recorder's form).
Wire = Literal["json", "sse", "ndjson", "lines"]

# The only version of the Anthropic Messages API; ogx's passthrough sends it too. A recording stores no headers,
# so nothing in it could ask for another (betas go in `anthropic-beta`, which is not recorded either).
ANTHROPIC_VERSION = "2023-06-01"
# Where the recorder's httpx patch intercepts (FORMAT.md §1.3): the marker in the URL path, per dialect.
PASSTHROUGH_PATHS: dict[Dialect, str] = {"anthropic": "/v1/messages", "gemini": "/interactions"}

# Where a key is needed, the environment variable it comes from by default (by the provider of the target host).
DEFAULT_KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
    "groq": "GROQ_API_KEY",
    "together": "TOGETHER_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "cerebras": "CEREBRAS_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "watsonx": "WATSONX_API_KEY",
    "bedrock": "AWS_BEARER_TOKEN_BEDROCK",
    "databricks": "DATABRICKS_TOKEN",
    "nvidia": "NVIDIA_API_KEY",
}
# Local servers take no key.
KEYLESS_PROVIDERS = frozenset({"ollama", "vllm", "llama.cpp"})

SUPPORTED_ENDPOINTS = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/models",
    "/v1/responses",
    "/api/chat",
    "/api/generate",
    "/api/embeddings",
    "/api/tags",
    "/api/ps",
)


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request to send again, and how to read and store its answer."""

    dialect: Dialect
    method: Literal["GET", "POST"]
    url: str
    json: dict[str, Any] | None
    wire: Wire
    type_name: str
    streaming: bool
    model_list: bool = False  # `/v1/models`: store `data` as a list of Model envelopes
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # A Responses API stream: each event typed by its own `type` (responses_types.py), not by `type_name`, and
    # the stream ends with its terminal event rather than `data: [DONE]`.
    events: bool = False

    @property
    def passthrough(self) -> bool:
        """An http passthrough call: its answer is stored raw (status and JSON body, or SSE lines)."""
        return self.dialect in PASSTHROUGH_PATHS


class Unsupported(Exception):
    """The stored request is not one the http runner can send; the message says why."""


_CHAT = "openai.types.chat.chat_completion.ChatCompletion"
_CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
_COMPLETION = "openai.types.completion.Completion"
_EMBEDDINGS = "openai.types.create_embedding_response.CreateEmbeddingResponse"
_MODEL = "openai.types.model.Model"


def _strip_v1(endpoint: str) -> str:
    """The path of an OpenAI resource below the SDK base URL: the recorder's endpoint constants carry a `/v1`
    that the base URL already has (`/v1/chat/completions` is sent as `<base>/chat/completions`)."""
    return endpoint[3:] if endpoint.startswith("/v1/") else endpoint


def sdk_base(url: str, endpoint: str) -> str:
    """The base URL the SDK had when it recorded: the stored URL is `base.rstrip("/") + endpoint`."""
    if endpoint and url.endswith(endpoint):
        return url[: -len(endpoint)]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def rebase(recorded_base: str, base_url: str | None, dialect: Dialect) -> str:
    """Where to send instead of the recorded SDK base. `--base-url` with only a scheme and host keeps the
    recorded path (`/v1`, `/openai/v1`, Gemini's `/v1beta`); with a path, it is the SDK base URL itself, as a user
    would give it to the SDK (`http://localhost:8000/v1`). Ollama's native API and the Messages API (sent to
    `<base>/v1/messages`) live at the root, so a trailing `/v1` (the same base URL people give the
    OpenAI-compatible client; ogx drops it the same way) is dropped for them."""
    if not base_url:
        return recorded_base.rstrip("/")
    given = urlsplit(base_url.rstrip("/"))
    if not given.scheme or not given.netloc:
        raise Unsupported(f"--base-url {base_url!r} is not an http(s) URL")
    path = given.path.rstrip("/")
    if dialect in ("ollama", "anthropic") and path.endswith("/v1"):
        path = path[:-3]
    if not path and dialect != "ollama":
        path = urlsplit(recorded_base).path.rstrip("/")
    return f"{given.scheme}://{given.netloc}{path}"


def _openai(endpoint: str, body: dict[str, Any], base: str) -> Call:
    resource = _strip_v1(endpoint)
    payload = dict(body)
    headers = {str(k): str(v) for k, v in (payload.pop("extra_headers", None) or {}).items()}
    params = dict(payload.pop("extra_query", None) or {})
    payload.update(payload.pop("extra_body", None) or {})
    payload.pop("timeout", None)
    if resource == "/models":
        return Call("openai", "GET", base + "/models", None, "json", _MODEL, False, True, params, headers)
    if resource == "/completions" and "messages" in payload:
        # Old recorders labelled some chat calls `/v1/completions`; the body says what the SDK called.
        resource = "/chat/completions"
    stream = bool(payload.get("stream"))
    wire: Wire = "sse" if stream else "json"
    if resource == "/responses":
        # `responses.create`: one Response, or its event stream (typed event by event).
        type_name = "" if stream else RESPONSE
        url = base + resource
        return Call("openai", "POST", url, payload, wire, type_name, stream, False, params, headers, events=stream)
    if resource == "/chat/completions":
        type_name = _CHUNK if stream else _CHAT
    elif resource == "/completions":
        type_name = _COMPLETION
    elif resource == "/embeddings":
        type_name, stream, wire = _EMBEDDINGS, False, "json"
    else:
        raise Unsupported(f"endpoint {endpoint} is not supported by the http runner")
    return Call("openai", "POST", base + resource, payload, wire, type_name, stream, False, params, headers)


def _ollama(endpoint: str, body: dict[str, Any], base: str) -> Call:
    if endpoint in ("/api/tags", "/api/ps"):
        type_name = "ollama._types.ListResponse" if endpoint == "/api/tags" else "ollama._types.ProcessResponse"
        return Call("ollama", "GET", base + endpoint, None, "json", type_name, False)
    # The SDK leaves out what is None and always says whether to stream (the server's own default is yes).
    payload = {key: value for key, value in body.items() if value is not None}
    if endpoint in ("/api/chat", "/api/generate"):
        stream = bool(payload.get("stream", False))
        payload["stream"] = stream
        type_name = "ollama._types.ChatResponse" if endpoint == "/api/chat" else "ollama._types.GenerateResponse"
        return Call("ollama", "POST", base + endpoint, payload, "ndjson" if stream else "json", type_name, stream)
    if endpoint in ("/api/embeddings", "/api/embed"):
        # The recorder stored `embed()` (POST /api/embed, `input`) under `/api/embeddings`; the legacy
        # `embeddings()` sends `prompt` to /api/embeddings.
        if "input" in payload:
            return Call("ollama", "POST", base + "/api/embed", payload, "json", "ollama._types.EmbedResponse", False)
        return Call(
            "ollama",
            "POST",
            base + "/api/embeddings",
            payload,
            "json",
            "ollama._types.EmbeddingsResponse",
            False,
        )
    raise Unsupported(f"endpoint {endpoint} is not supported by the http runner")


def _passthrough(request: dict[str, Any], base_url: str | None) -> Call:
    """An http recording (`{test_id, url, method, payload}`): the payload sent as it is, to the recorded URL or
    the same path below `--base-url`; streamed when the payload asks (`stream: true`), as ogx then calls
    `httpx.AsyncClient.stream`. The URL, method and payload are the request key: none of them is changed."""
    url, method, payload = request.get("url"), request.get("method") or "POST", request.get("payload")
    if not isinstance(url, str) or not url:
        raise Unsupported("the http recording has no URL")
    if not isinstance(payload, dict):
        raise Unsupported("the stored payload is not a JSON object")
    if not isinstance(method, str) or method.upper() != "POST":  # the patch records `post` and `stream("POST")`
        raise Unsupported(f"method {method!r} is not supported by the http runner")
    parts = urlsplit(url)
    found = [(dialect, marker) for dialect, marker in PASSTHROUGH_PATHS.items() if marker in parts.path]
    if not found:
        raise Unsupported(
            f"an http recording of {parts.path or url}; the http runner re-records Anthropic Messages "
            "(/v1/messages) and Gemini Interactions (/interactions) only"
        )
    dialect, marker = found[0]
    if parts.scheme not in ("http", "https") and not base_url:
        raise Unsupported(f"recorded URL {url!r} has no http(s) host; give --base-url")
    cut = parts.path.index(marker)
    recorded_base = f"{parts.scheme}://{parts.netloc}{parts.path[:cut]}"
    resource = parts.path[cut:] + (f"?{parts.query}" if parts.query else "")
    streaming = bool(payload.get("stream"))
    headers = {"anthropic-version": ANTHROPIC_VERSION} if dialect == "anthropic" else {}
    url = rebase(recorded_base, base_url, dialect) + resource
    return Call(dialect, "POST", url, payload, "lines" if streaming else "json", "", streaming, headers=headers)


def build_call(request: Any, base_url: str | None = None) -> Call:
    """The call to send for a stored `request` object (raw JSON). Raises Unsupported with the reason."""
    if isinstance(request, dict) and "payload" in request and "body" not in request:
        return _passthrough(request, base_url)
    if not isinstance(request, dict) or "body" not in request:
        raise Unsupported("not an SDK inference or http passthrough request (a tool or file-processor recording)")
    url = request.get("url")
    endpoint = request.get("endpoint") or ""
    if not isinstance(url, str) or not isinstance(endpoint, str):
        raise Unsupported("the request has no URL or endpoint")
    scheme = urlsplit(url).scheme
    if scheme == "vertexai":
        raise Unsupported(
            "a google-genai (Vertex AI) call; the http runner resends OpenAI (chat, completions, embeddings, models, "
            "Responses) and Ollama SDK calls and the Anthropic Messages and Gemini Interactions passthrough, not "
            "google-genai: re-record it with --runner pytest"
        )
    if scheme not in ("http", "https") and not base_url:
        raise Unsupported(f"recorded URL {url!r} has no http(s) host; give --base-url")
    body = request.get("body")
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Unsupported("the stored body is not a JSON object")
    if endpoint.startswith("/api/"):
        return _ollama(endpoint, body, rebase(sdk_base(url, endpoint), base_url, "ollama"))
    if _strip_v1(endpoint) in ("/chat/completions", "/completions", "/embeddings", "/models", "/responses"):
        return _openai(endpoint, body, rebase(sdk_base(url, endpoint), base_url, "openai"))
    raise Unsupported(f"endpoint {endpoint or '?'} is not supported by the http runner")


def _is_local(host: str) -> bool:
    host = host.split(":")[0].strip("[]").lower()
    if host in ("localhost", "host.docker.internal") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def key_env_for(url: str, endpoint: str = "") -> str | None:
    """The environment variable that holds the API key for a target URL by default; None when the target
    takes no key (a local server, Ollama, vLLM) or is unknown (then only `--api-key-env` sends one)."""
    host = urlsplit(url).netloc
    if _is_local(host):
        return None
    provider = provider_of(url, endpoint=endpoint)
    if provider is None or provider in KEYLESS_PROVIDERS:
        return None
    return DEFAULT_KEY_ENV.get(provider)


def auth_headers(url: str, key: str | None, dialect: Dialect | None = None) -> dict[str, str]:
    """How the key is sent: by the API the call speaks, wherever it goes (Anthropic `x-api-key`, Gemini
    `x-goog-api-key`); else by the host: Azure's `api-key` header, a bearer token everywhere else."""
    if not key:
        return {}
    if dialect == "anthropic":
        return {"x-api-key": key}
    if dialect == "gemini":
        return {"x-goog-api-key": key}
    if provider_of(url) == "azure":
        return {"api-key": key}
    return {"Authorization": f"Bearer {key}"}


def stored_body(call: Call, items: list[Any]) -> Any:
    """The response body the recorder stores for the decoded wire objects of one call (one object for a plain
    JSON answer; every event of a stream): envelopes of the SDK type, every field kept. A Responses stream's
    events are each typed by their `type`; one the table lacks fails the file (ValueError, with the reason)."""
    if call.model_list:
        data = items[0].get("data") if items and isinstance(items[0], dict) else None
        if not isinstance(data, list):
            raise ValueError("the model list has no `data` array")
        return [envelope(call.type_name, item) for item in data]
    if call.events:
        return [envelope(event_class(item), item) for item in items]
    if call.streaming:
        return [envelope(call.type_name, item) for item in items]
    if len(items) != 1:
        raise ValueError(f"expected one JSON object, got {len(items)}")
    return envelope(call.type_name, items[0])


def passthrough_response(call: Call, items: list[Any], status: int | None) -> dict[str, Any]:
    """The `response` the httpx patch stores, key for key: for `post`, `{status, body, is_streaming: false}` with
    the body as `response.json()` gave it (no envelope, no normalization); for `stream`, `{body, is_streaming:
    true}`, the body every line `aiter_lines()` gave (empty lines included), and no status."""
    if call.streaming:
        if not all(isinstance(line, str) for line in items):
            raise ValueError("a streamed answer must be a list of lines")
        return {"body": list(items), "is_streaming": True}
    if len(items) != 1:
        raise ValueError(f"expected one JSON answer, got {len(items)}")
    if status is None:
        raise ValueError("the HTTP status of the answer is missing")
    return {"status": status, "body": items[0], "is_streaming": False}


def _with_response(raw: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    return {key: (response if key == "response" else value) for key, value in raw.items()}


def rerecorded(
    raw: dict[str, Any], call: Call, items: list[Any], name: str, status: int | None = None
) -> tuple[dict[str, Any], str]:
    """The new recording (the stored request untouched, so its name stays valid; the response as the recorder
    writes it, normalized) and its file name: model lists are named by the model ids they hold, so a changed
    model set gives `models-<hash>-<new digest>.json`. `status` is the HTTP status of the answer, which only the
    passthrough form stores."""
    if call.passthrough:
        return _with_response(raw, passthrough_response(call, items, status)), name
    request_hash = hash_of_name(name)
    response = {"body": stored_body(call, items), "is_streaming": call.streaming}
    new = _with_response(raw, response)
    new, _changes = normalize_response(new, request_hash)
    if name.startswith("models-"):
        digest = model_list_digest(new)
        if digest is not None:
            name = f"models-{request_hash}-{digest}.json"
    return new, name
