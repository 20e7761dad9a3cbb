"""The pure parts of `fixtures rerecord`: the call a stored request becomes (URL, method, wire, type), API-key
defaults, the SDK field shapes, stored token usage, the plan, and the review decisions; checked on the corpus."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

import builders
from conftest import CORPUS, corpus_files
from llm_fixtures.decoding import dump_upstream
from llm_fixtures.envelopes import parse_envelope
from llm_fixtures.errors import UsageError
from llm_fixtures.filtering import Filters
from llm_fixtures.rerecording.calls import Call, Unsupported, auth_headers, build_call, key_env_for, rerecorded
from llm_fixtures.rerecording.plan import Usage, build_plan, require_choice, stored_usage
from llm_fixtures.rerecording.review import PendingEntry, PendingTest, decide
from llm_fixtures.rerecording.shapes import TYPES, fill
from llm_fixtures.store import load_recording

CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"


def request(url: str, endpoint: str, body: Any) -> dict[str, Any]:
    return builders.sdk_request(url, endpoint, body, model="")


STREAM = {"model": "m", "messages": [], "stream": True}


@pytest.mark.parametrize(
    ("url", "endpoint", "body", "base_url", "expected"),
    [
        # The stored URL is the SDK base URL + the endpoint constant, hence /v1/v1: sent once.
        ("https://api.openai.com/v1/v1/chat/completions", "/v1/chat/completions", STREAM, None,
         ("POST", "https://api.openai.com/v1/chat/completions", "sse", CHUNK)),
        # --base-url with only a host keeps the recorded base path; with a path, it is the SDK base URL.
        ("https://api.openai.com/v1/v1/chat/completions", "/v1/chat/completions", STREAM, "http://127.0.0.1:9",
         ("POST", "http://127.0.0.1:9/v1/chat/completions", "sse", CHUNK)),
        ("https://api.openai.com/v1/v1/chat/completions", "/v1/chat/completions", STREAM, "http://127.0.0.1:9/v1/",
         ("POST", "http://127.0.0.1:9/v1/chat/completions", "sse", CHUNK)),
        ("https://x.openai.azure.com/openai/v1/v1/chat/completions", "/v1/chat/completions", STREAM, None,
         ("POST", "https://x.openai.azure.com/openai/v1/chat/completions", "sse", CHUNK)),
        ("https://x.openai.azure.com/openai/v1/v1/chat/completions", "/v1/chat/completions", STREAM, "http://l:1",
         ("POST", "http://l:1/openai/v1/chat/completions", "sse", CHUNK)),
        # Old recorders labelled chat calls /v1/completions; the body says what was called.
        ("http://0.0.0.0:11434/v1/v1/completions", "/v1/completions", STREAM, None,
         ("POST", "http://0.0.0.0:11434/v1/chat/completions", "sse", CHUNK)),
        ("http://localhost:11434/v1/chat/completions", "/chat/completions", {"model": "m", "messages": []}, None,
         ("POST", "http://localhost:11434/v1/chat/completions", "json",
          "openai.types.chat.chat_completion.ChatCompletion")),
        ("http://h/v1/v1/completions", "/v1/completions", {"model": "m", "prompt": "x", "stream": True}, None,
         ("POST", "http://h/v1/completions", "sse", "openai.types.completion.Completion")),
        ("http://h/v1/v1/embeddings", "/v1/embeddings", {"model": "e", "input": "x"}, None,
         ("POST", "http://h/v1/embeddings", "json",
          "openai.types.create_embedding_response.CreateEmbeddingResponse")),
        # llama.cpp's base URL had no /v1: the stored path really is /v1/models, the SDK asked for /models.
        ("http://localhost:8080/v1/models", "/v1/models", {}, None,
         ("GET", "http://localhost:8080/models", "json", "openai.types.model.Model")),
        ("http://localhost:11434/api/generate", "/api/generate", {"model": "m", "prompt": "p"}, None,
         ("POST", "http://localhost:11434/api/generate", "json", "ollama._types.GenerateResponse")),
        ("http://localhost:11434/api/chat", "/api/chat", {"model": "m", "stream": True}, "http://o:11434/v1",
         ("POST", "http://o:11434/api/chat", "ndjson", "ollama._types.ChatResponse")),
        ("http://localhost:11434/api/embeddings", "/api/embeddings", {"model": "m", "input": ["x"]}, None,
         ("POST", "http://localhost:11434/api/embed", "json", "ollama._types.EmbedResponse")),
        ("http://localhost:11434/api/embeddings", "/api/embeddings", {"model": "m", "prompt": "x"}, None,
         ("POST", "http://localhost:11434/api/embeddings", "json", "ollama._types.EmbeddingsResponse")),
        ("http://localhost:11434/api/tags", "/api/tags", {}, None,
         ("GET", "http://localhost:11434/api/tags", "json", "ollama._types.ListResponse")),
        ("http://localhost:11434/api/ps", "/api/ps", {}, None,
         ("GET", "http://localhost:11434/api/ps", "json", "ollama._types.ProcessResponse")),
    ],
)  # fmt: skip
def test_build_call(url: str, endpoint: str, body: Any, base_url: str | None, expected: tuple[str, ...]) -> None:
    call = build_call(request(url, endpoint, body), base_url)
    assert (call.method, call.url, call.wire, call.type_name) == expected


def test_sdk_arguments_become_the_wire_request() -> None:
    body = {"model": "m", "messages": [], "extra_body": {"top_k": 3}, "extra_query": {"api-version": "1"},
            "extra_headers": {"X-Trace": "1"}, "timeout": 30}  # fmt: skip
    call = build_call(request("http://h/v1/v1/chat/completions", "/v1/chat/completions", body))
    assert call.json == {"model": "m", "messages": [], "top_k": 3}
    assert call.params == {"api-version": "1"} and call.headers == {"X-Trace": "1"}
    ollama = build_call(request("http://h:1/api/generate", "/api/generate", {"model": "m", "options": None}))
    assert ollama.json == {"model": "m", "stream": False}  # None left out, stream said explicitly


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        ({"test_id": "t", "provider": "tavily", "tool_name": "web_search", "kwargs": {}}, "not an SDK inference"),
        (request("vertexai:///generate_content", "/generate_content", {}), "Anthropic Messages and Gemini Inter"),
        (request("__databricks__/serving-endpoints/v1/chat/completions", "/v1/chat/completions", {}), "--base-url"),
        (request("https://api.openai.com/v1/v1/responses/resp_1", "/v1/responses/resp_1", {}), "is not supported"),
        (request("http://localhost:11434/api/pull", "/api/pull", {}), "/api/pull is not supported"),
    ],
)
def test_unsupported_requests_say_why(req: dict[str, Any], reason: str) -> None:
    with pytest.raises(Unsupported, match=reason.replace("/", "/")):
        build_call(req)


@pytest.mark.parametrize(
    ("url", "env"),
    [
        ("https://api.openai.com/v1/chat/completions", "OPENAI_API_KEY"),
        ("https://lls-test.openai.azure.com/openai/v1/chat/completions", "AZURE_OPENAI_API_KEY"),
        ("https://bedrock-runtime.us-west-2.amazonaws.com/openai/v1/chat/completions", "AWS_BEARER_TOKEN_BEDROCK"),
        ("https://api.groq.com/openai/v1/chat/completions", "GROQ_API_KEY"),
        ("http://0.0.0.0:11434/v1/chat/completions", None),
        ("http://localhost:8000/v1/chat/completions", None),
        ("http://127.0.0.1:5000/v1/chat/completions", None),
        ("http://10.1.2.3:8000/v1/chat/completions", None),
        ("http://ollama.internal:11434/api/chat", None),
        ("https://proxy.example.com/v1/chat/completions", None),
    ],
)
def test_default_key_variable(url: str, env: str | None) -> None:
    assert key_env_for(url) == env


def test_auth_headers() -> None:
    assert auth_headers("https://x.openai.azure.com/openai/v1/chat/completions", "k") == {"api-key": "k"}
    assert auth_headers("https://api.openai.com/v1/models", "k") == {"Authorization": "Bearer k"}
    assert auth_headers("https://api.openai.com/v1/models", None) == {}


def test_fill_keeps_every_declared_field_in_order_and_extras_after() -> None:
    wire = {"choices": [{"delta": {"content": "x"}, "index": 0}], "id": "c", "obfuscation": "abc"}
    data = fill(TYPES[CHUNK], wire)
    assert list(data) == [
        "id", "choices", "created", "model", "object", "service_tier", "system_fingerprint", "usage", "obfuscation",
    ]  # fmt: skip
    assert data["choices"][0] == {
        "delta": {"content": "x", "function_call": None, "refusal": None, "role": None, "tool_calls": None},
        "finish_reason": None,
        "index": 0,
        "logprobs": None,
    }
    ollama = fill(TYPES["ollama._types.GenerateResponse"], {"response": "r", "unknown": 1, "created_at": "t"})
    assert "unknown" not in ollama and list(ollama)[:2] == ["model", "created_at"]


@pytest.mark.usefixtures("corpus")
def test_shapes_reproduce_every_openai_object_of_the_corpus() -> None:
    counts: Counter[str] = Counter()
    for path in corpus_files("llama-stack"):
        body = json.loads(path.read_bytes()).get("response", {}).get("body")
        for item in body if isinstance(body, list) else [body]:
            type_name, data = parse_envelope(item)
            if type_name in TYPES and type_name.startswith("openai."):
                assert json.dumps(fill(TYPES[type_name], data)) == json.dumps(data), path
                counts[type_name] += 1
    assert counts[CHUNK] > 1000 and len(counts) == 5


def _own_answer(raw: dict[str, Any], call: Call) -> list[Any]:
    body = raw["response"]["body"]
    if call.passthrough:  # stored as it came: the JSON answer, or the lines of the stream
        return list(body) if call.streaming else [body]
    if call.model_list:
        return [{"object": "list", "data": [item["__data__"] for item in body]}]
    return [item["__data__"] for item in body] if isinstance(body, list) else [body["__data__"]]


@pytest.mark.usefixtures("corpus")
def test_rerecording_a_recordings_own_answer_gives_the_same_file() -> None:
    """Fed its own stored answer as the wire answer, the runner writes the file the recorder wrote, byte for byte;
    the exceptions are explained: files renamed after recording (ids carry the old name) and /api/ps recorded
    by an Ollama SDK older than `context_length`."""
    outcomes: Counter[str] = Counter()
    for path in corpus_files("llama-stack"):
        loaded = load_recording(path)
        raw = loaded.raw
        try:
            call = build_call(raw["request"])
        except Unsupported:
            continue
        if raw["response"].get("is_exception"):
            continue
        new, name = rerecorded(raw, call, _own_answer(raw, call), path.name, raw["response"].get("status"))
        assert name == path.name and new["request"] == raw["request"]
        if dump_upstream(new) == path.read_bytes():
            outcomes["same"] += 1
            continue
        if call.type_name == "ollama._types.ProcessResponse":
            outcomes["older ollama sdk"] += 1
        else:
            ids = {parse_envelope(item)[1].get("id") for item in raw["response"]["body"]}
            assert ids and f"rec-{path.name[:12]}" not in ids, path
            outcomes["renamed after recording"] += 1
    assert outcomes == Counter({"same": 130, "older ollama sdk": 8, "renamed after recording": 5})


def test_stored_usage() -> None:
    chunk = {"__type__": CHUNK, "__data__": {"usage": None}}
    last = {"__type__": CHUNK, "__data__": {"usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}}
    assert stored_usage({"response": {"body": [chunk, last, chunk]}}) == Usage(
        prompt_tokens=3, completion_tokens=2, total_tokens=5
    )
    ollama = {"__type__": "ollama._types.GenerateResponse", "__data__": {"prompt_eval_count": 4, "eval_count": 6}}
    assert stored_usage({"response": {"body": ollama}}) == Usage(prompt_tokens=4, completion_tokens=6, total_tokens=10)
    genai = {"usage_metadata": {"prompt_token_count": 1, "candidates_token_count": 1, "total_token_count": 2}}
    assert stored_usage({"response": {"body": [genai]}}) == Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2)
    messages = {"usage": {"input_tokens": 7, "output_tokens": 1}}
    assert stored_usage({"response": {"body": messages}}) == Usage(prompt_tokens=7, completion_tokens=1, total_tokens=8)
    assert stored_usage({"response": {"body": None}}) is None


@pytest.mark.usefixtures("corpus")
def test_plan_over_the_corpus() -> None:
    files = corpus_files("llama-stack") + corpus_files("llama-stack-2025-08")
    recordings = [(loaded.facts, loaded.raw) for loaded in map(load_recording, files)]
    http = build_plan(recordings, "http")
    reasons = Counter((item.reason or "").split(";")[0].split(" is not")[0] for item in http.items if item.reason)
    assert reasons == Counter(
        {
            "not an SDK inference or http passthrough request (a tool or file-processor recording)": 8,
            "a google-genai (Vertex AI) call": 9,
            "a recorded exception": 7,
            "endpoint /api/pull": 2,
        }
    )
    assert http.to_do == 171 and all(item.url and item.method for item in http.items if item.action == "send")
    assert (http.usage.total_tokens or 0) > 0 and (http.usage.prompt_tokens or 0) > 0
    assert all(item.usage is None or item.usage.total_tokens != 0 for item in http.items)
    # The corpus holds no test modules: every test with a node id is an orphan here, and says so.
    pytest_plan = build_plan(recordings, "pytest", root=CORPUS)
    assert pytest_plan.to_do == 0 and not pytest_plan.tests
    reasons = Counter((item.reason or "").split(",")[0] for item in pytest_plan.items)
    assert set(reasons) == {"no test id", "its test file no longer exists (an orphan: `fixtures prune` finds these)"}


def test_nothing_is_chosen_without_asking() -> None:
    with pytest.raises(UsageError, match="--all"):
        require_choice([], Filters(), stale=False, everything=False)
    require_choice([], Filters(), stale=False, everything=True)
    require_choice([], Filters(model="gpt"), stale=False, everything=False)


def _tests(count: int) -> list[PendingTest]:
    entry = PendingEntry(id="000001", test_id="t", target="a.json", kind="new", runner="http", bytes=1)
    return [PendingTest(test_id=f"t{i}", entries=[entry]) for i in range(count)]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["a", "r", "s", "a"], ["accept", "reject", "skip", "accept"]),
        (["?", "", "a", "R"], ["accept", "reject", "reject", "reject"]),
        (["s", "A"], ["skip", "accept", "accept", "accept"]),
        (["S"], ["skip", "skip", "skip", "skip"]),
    ],
)
def test_review_decisions(answers: list[str], expected: list[str]) -> None:
    script = iter(answers)
    asked: list[int] = []

    def ask(test: PendingTest, index: int, total: int) -> str:
        assert total == 4 and test.test_id == f"t{index}"
        asked.append(index)
        return next(script)

    decisions = decide(_tests(4), ask)
    assert [decisions[i] for i in range(4)] == expected
    assert len(asked) == len(answers)
