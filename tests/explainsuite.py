"""A miniature OGX-style integration suite, written into tmp_path and run for real with pytest: its recorder names
files and raises on a replay miss exactly as upstream `api_recorder.py` does, in front of a fake provider."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The recorder, as upstream's `src/ogx/testing/api_recorder.py` (at d1b66329) works: the keys it hashes, the
# normalization of the body, the folder of the test, the file it writes, and the messages of a replay miss, word
# for word. `MINI_RECORDER_RULE=no-normalization` records as the recorder did before #3403 (raw body hashed).
CONFTEST = r'''
"""Miniature integration suite: an upstream-style recorder (record / replay) in front of a fake provider."""

import contextvars
import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
_CONTEXT = contextvars.ContextVar("test_id", default=None)
_FLOAT_IN_STRING = re.compile(r"(-?\d+\.\d{4,})")
HINT = "Run './scripts/integration-tests.sh --inference-mode record-if-missing' with required API keys to generate."
PROVIDERS = {"openai": "https://api.openai.com/v1", "ollama": "http://0.0.0.0:11434/v1"}


def pytest_addoption(parser):
    parser.addoption("--inference-mode", default="replay", choices=["record", "replay", "live", "record-if-missing"])
    parser.addoption("--text-model", default="openai/gpt-4o")


def pytest_configure(config):
    config.option.tbstyle = "short"
    os.environ["OGX_TEST_INFERENCE_MODE"] = config.getoption("--inference-mode")


def pytest_generate_tests(metafunc):
    if "text_model_id" in metafunc.fixturenames:
        models = [model for model in metafunc.config.getoption("--text-model").split(",") if model]
        metafunc.parametrize("text_model_id", models, ids=[f"txt={model}" for model in models])


@pytest.fixture(autouse=True)
def _track_test_context(request):
    token = _CONTEXT.set(request.node.nodeid)
    yield
    _CONTEXT.reset(token)


def _normalize_body_for_hash(value, _is_root=True):
    if os.environ.get("MINI_RECORDER_RULE") == "no-normalization":
        return value
    if isinstance(value, dict):
        return {key: _normalize_body_for_hash(item, _is_root=False) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize_body_for_hash(item) for item in value]
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, str):
        return _FLOAT_IN_STRING.sub(lambda match: f"{float(match.group(0)):.5f}", value)
    return value


def _sha256(key):
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def _inference_hash(url, body):
    path = urlparse(url).path
    key = {"method": "POST", "endpoint": path, "body": _normalize_body_for_hash(body)}
    if path not in ("/api/tags", "/v1/models", "/v1/openai/v1/models"):
        key["test_id"] = _CONTEXT.get()
    return _sha256(key)


def _http_hash(url, payload):
    return _sha256(
        {"test_id": _CONTEXT.get(), "url": url, "method": "POST", "payload": _normalize_body_for_hash(payload)}
    )


def _folder():
    return ROOT / Path(_CONTEXT.get().split("::")[0]).parent / "recordings"


def _replaying():
    return os.environ["OGX_TEST_INFERENCE_MODE"] == "replay"


def _find(request_hash):
    path = _folder() / f"{request_hash}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _store(request_hash, request, response):
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    recording = {"test_id": _CONTEXT.get(), "request": request, "response": response, "id_normalization_mapping": {}}
    with open(folder / f"{request_hash}.json", "w") as f:
        json.dump(recording, f, indent=2)
        f.write("\n")


class Stack:
    """What the tests call: each call goes through the recorder, as the stack's calls to providers do."""

    def chat(self, model_id, messages, **params):
        provider, model = model_id.split("/", 1)
        url = PROVIDERS[provider] + "/v1/chat/completions"
        body = {"model": model, "messages": messages, **params}
        request_hash = _inference_hash(url, body)
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise RuntimeError(
                    f"Recording not found for request hash: {request_hash}\n"
                    f"Model: {body.get('model', 'unknown')} | Request: POST {url}\n"
                    f"\n"
                    f"{HINT}"
                )
            return recording["response"]["body"]["__data__"]["choices"][0]["message"]["content"]
        answer = f"You asked: {json.dumps(messages[0]['content'])}"
        data = {
            "id": f"rec-{request_hash[:12]}",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        }
        request = {
            "method": "POST",
            "url": url,
            "headers": {},
            "body": body,
            "endpoint": "/v1/chat/completions",
            "model": model,
            "provider_metadata": {"openai_sdk_version": "2.8.1"},
        }
        body_type = "openai.types.chat.chat_completion.ChatCompletion"
        _store(request_hash, request, {"body": {"__type__": body_type, "__data__": data}, "is_streaming": False})
        return answer

    def genai(self, model, endpoint, contents):
        url = f"vertexai://{endpoint}"
        body = {"model": model, "contents": contents}
        request_hash = _inference_hash(url, body)
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise RuntimeError(
                    f"Recording not found for genai request hash: {request_hash}\n"
                    f"Model: {model} | Endpoint: {endpoint}\n"
                    f"\n"
                    f"Run './scripts/integration-tests.sh --inference-mode record-if-missing' with required API keys."
                )
            return recording["response"]["body"]["candidates"][0]["content"]["parts"][0]["text"]
        request = {"method": "POST", "url": url, "headers": {}, "body": body, "endpoint": endpoint, "model": model,
                   "provider_metadata": {"provider": "vertexai"}}
        answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finish_reason": "STOP"}]}
        _store(request_hash, request, {"body": answer, "is_streaming": False})
        return "Hello"

    def tool(self, provider_name, tool_name, kwargs):
        request_hash = _sha256({"provider": provider_name, "tool_name": tool_name, "kwargs": kwargs})
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise RuntimeError(
                    f"Recording not found for {provider_name}.{tool_name} | Request: {kwargs}\n"
                    f"\n"
                    f"{HINT}"
                )
            return recording["response"]["body"]
        result = {"__type__": "ogx_api.tools.ToolInvocationResult", "__data__": {"content": "[]"}}
        request = {"test_id": _CONTEXT.get(), "provider": provider_name, "tool_name": tool_name, "kwargs": kwargs}
        _store(request_hash, request, {"body": result, "is_streaming": False})
        return result

    def rerank(self, url, payload):
        request_hash = _http_hash(url, payload)
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise RuntimeError(f"Recording not found for rerank request | URL: {url}\n\n{HINT}")
            return recording["response"]["body"]
        body = {"results": [{"index": 0, "relevance_score": 0.9}]}
        request = {"test_id": _CONTEXT.get(), "url": url, "method": "POST", "payload": payload}
        _store(request_hash, request, {"status": 200, "body": body, "is_streaming": False})
        return body

    def messages(self, url, payload):
        request_hash = _http_hash(url, payload)
        kind = "httpx stream POST" if payload.get("stream") else "httpx POST"
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise RuntimeError(f"Recording not found for {kind} {url}\n\n{HINT}")
            return recording["response"]["body"]
        body = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "Hi"}]}
        request = {"test_id": _CONTEXT.get(), "url": url, "method": "POST", "payload": payload}
        _store(request_hash, request, {"status": 200, "body": body, "is_streaming": False})
        return body


@pytest.fixture
def stack():
    return Stack()
'''

CHAT_TESTS = r'''
"""Chat completions through the stack."""

import os
import uuid

# Which client version made the request: version 1 sent the question as a list of content parts and an explicit
# `max_tokens=None`; version 2 sends a plain string and 0.
CLIENT = os.environ.get("MINI_CLIENT", "2")


def test_capital(stack, text_model_id):
    assert "France" in stack.chat(text_model_id, [{"role": "user", "content": "What is the capital of France?"}])


def test_rounding(stack, text_model_id):
    answer = stack.chat(
        text_model_id, [{"role": "user", "content": "Round 3.14159265 to two decimals."}], temperature=0.0
    )
    assert "Round" in answer


def test_weather_followup(stack, text_model_id):
    call_id = f"call_{uuid.uuid4().hex[:24]}"
    question = "What is the weather in Lisbon?"
    messages = [
        {"role": "user", "content": [{"type": "text", "text": question}] if CLIENT == "1" else question},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Lisbon"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "18 C and sunny"},
    ]
    assert stack.chat(text_model_id, messages, max_tokens=None if CLIENT == "1" else 0)
'''

SUMMARY_TESTS = r'''
"""Summaries through the stack."""


def {name}(stack, text_model_id):
    assert stack.chat(text_model_id, [{{"role": "user", "content": "Summarize: the cat sat on the mat."}}])
'''

OTHER_TESTS = r'''
"""Tools, rerank, the Messages passthrough and google-genai through the stack."""


def test_web_search(stack):
    assert stack.tool("tavily", "web_search", {"query": "latest OGX release", "max_results": 3}) is not None


def test_rerank(stack):
    payload = {"model": "Qwen/Qwen3-Reranker-0.6B", "query": "cats", "documents": ["a cat", "a dog"]}
    assert stack.rerank("http://localhost:8000/v1/rerank", payload)


def test_messages(stack):
    payload = {"model": "claude-haiku-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    assert stack.messages("http://0.0.0.0:11434/v1/messages", payload)


def test_messages_streaming(stack):
    payload = {"model": "claude-haiku-4-5", "max_tokens": 64, "stream": True}
    payload["messages"] = [{"role": "user", "content": "Hi"}]
    assert stack.messages("http://0.0.0.0:11434/v1/messages", payload)


def test_genai(stack):
    assert stack.genai("gemini-2.0-flash", "/generate_content", [{"role": "user", "parts": [{"text": "Hi"}]}])
'''

PYPROJECT = """\
[project]
name = "mini-stack"
version = "0.0.0"

[tool.pytest.ini_options]
testpaths = ["tests/integration"]
"""

CHAT = "tests/integration/inference/test_chat.py"
SUMMARIES = "tests/integration/inference/test_summaries.py"
OTHERS = "tests/integration/tools/test_others.py"


def write_suite(root: Path) -> Path:
    """The suite's files under `root` (a fresh project): conftest, the test modules, a pyproject."""
    files = {
        "pyproject.toml": PYPROJECT,
        "tests/integration/conftest.py": CONFTEST,
        CHAT: CHAT_TESTS,
        SUMMARIES: SUMMARY_TESTS.format(name="test_summary_of_text"),
        OTHERS: OTHER_TESTS,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"))
    return root


def rename_summary_test(root: Path, name: str) -> None:
    """Rename the summary test in its file (a refactoring that leaves its recordings under the old id)."""
    (root / SUMMARIES).write_text(SUMMARY_TESTS.format(name=name).lstrip("\n"))


def run_pytest(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """pytest over the suite in `root` (its own rootdir; no plugin of ours), output captured."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "OGX_"))}
    environment.update(env or {})
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(root), *args]
    return subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True, timeout=120, check=False)


def record(root: Path, *args: str, env: dict[str, str] | None = None) -> None:
    """A record run (must pass)."""
    result = run_pytest(root, "--inference-mode", "record", *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def replay(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A replay run, as upstream CI runs it (`-v`, colours forced); its output is the log."""
    return run_pytest(root, "-v", "--color=yes", *args)


def github_actions_log(text: str) -> str:
    """The log as GitHub Actions stores it: each line prefixed with its UTC timestamp (100 ns precision)."""
    lines = text.splitlines()
    return "".join(
        f"2025-10-01T12:00:{index // 10:02d}.{index % 10}234567Z {line}\n" for index, line in enumerate(lines)
    )
