"""A miniature OGX-style integration suite, written into tmp_path and run for real with pytest: its recorder names
files and raises on a replay miss as upstream `api_recorder.py` does (tests/upstreamrecorder.py), in front of a
fake provider."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# The suite's conftest: the stack's calls to providers go through a recorder that keeps upstream's contract
# (tests/upstreamrecorder.py, on the path of the run) in front of a fake provider. `MINI_RECORDER_RULE=no-normalization`
# records as the recorder did before #3403 (the raw body hashed).
CONFTEST = r'''
"""Miniature integration suite: an upstream-style recorder (record / replay) in front of a fake provider."""

import contextvars
import json
import os
from pathlib import Path

import pytest
import upstreamrecorder as recorder

ROOT = Path(__file__).resolve().parents[2]
_CONTEXT = contextvars.ContextVar("test_id", default=None)
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


def _replaying():
    return os.environ["OGX_TEST_INFERENCE_MODE"] == "replay"


def _find(request_hash):
    return recorder.find(ROOT, _CONTEXT.get(), request_hash)


def _store(request_hash, request, response):
    recorder.store(ROOT, _CONTEXT.get(), request_hash, request, response)


class Stack:
    """What the tests call: each call goes through the recorder, as the stack's calls to providers do."""

    def chat(self, model_id, messages, **params):
        provider, model = model_id.split("/", 1)
        url = PROVIDERS[provider] + "/v1/chat/completions"
        body = {"model": model, "messages": messages, **params}
        normalize = os.environ.get("MINI_RECORDER_RULE") != "no-normalization"
        request_hash = recorder.inference_hash(url, body, _CONTEXT.get(), normalize=normalize)
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise recorder.inference_miss(request_hash, body.get("model", "unknown"), url)
            return recording["response"]["body"]["__data__"]["choices"][0]["message"]["content"]
        answer = f"You asked: {json.dumps(messages[0]['content'])}"
        data = {
            "id": f"rec-{request_hash[:12]}",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer}}],
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
        request_hash = recorder.inference_hash(url, body, _CONTEXT.get())
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise recorder.genai_miss(request_hash, model, endpoint)
            return recording["response"]["body"]["candidates"][0]["content"]["parts"][0]["text"]
        raise NotImplementedError("this suite never records genai")

    def tool(self, provider_name, tool_name, kwargs):
        request_hash = recorder.tool_hash(provider_name, tool_name, kwargs)
        if _replaying():
            recording = _find(request_hash)
            if recording is None:
                raise recorder.tool_miss(provider_name, tool_name, kwargs)
            return recording["response"]["body"]
        raise NotImplementedError("this suite never records tool calls")

    def rerank(self, url, payload):
        recording = _find(recorder.http_hash(url, payload, _CONTEXT.get()))
        if recording is None:
            raise recorder.rerank_miss(url)
        return recording["response"]["body"]

    def messages(self, url, payload):
        recording = _find(recorder.http_hash(url, payload, _CONTEXT.get()))
        if recording is None:
            raise recorder.httpx_miss(url, stream=bool(payload.get("stream")))
        return recording["response"]["body"]


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

HERE = Path(__file__).resolve().parent  # upstreamrecorder.py, which the suite's conftest imports
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
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), environment.get("PYTHONPATH")]))
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
