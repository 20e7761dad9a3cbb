"""Derived facts: providers from URLs, test id parts, suites, hashes in names, eras."""

from __future__ import annotations

import pytest

from llm_fixtures.facts import derive_facts, hash_of_name, provider_of, split_test_id, suite_of


@pytest.mark.parametrize(
    ("url", "endpoint", "provider"),
    [
        ("https://api.openai.com/v1/v1/chat/completions", "/v1/chat/completions", "openai"),
        ("https://lls-test.openai.azure.com/openai/v1/v1/chat/completions", "/v1/chat/completions", "azure"),
        ("http://0.0.0.0:11434/v1/v1/chat/completions", "/v1/chat/completions", "ollama"),
        ("http://localhost:11434/api/generate", "/api/generate", "ollama"),
        ("http://ollama.internal/api/chat", "/api/chat", "ollama"),
        ("http://localhost:8000/v1/v1/chat/completions", "/v1/chat/completions", "vllm"),
        ("http://localhost:8080/v1/models", "/v1/models", "llama.cpp"),
        ("https://bedrock-runtime.us-west-2.amazonaws.com/openai/v1/v1/chat/completions", "", "bedrock"),
        ("https://bedrock-mantle.us-east-2.api.aws/v1/v1/chat/completions", "", "bedrock"),
        ("https://us-south.ml.cloud.ibm.com/ml/v1/v1/chat/completions", "", "watsonx"),
        ("vertexai:///generate_content_stream", "/generate_content_stream", "vertexai"),
        ("https://generativelanguage.googleapis.com/v1beta/interactions", "", "gemini"),
        ("https://api.anthropic.com/v1/messages", "", "anthropic"),
        ("https://api.groq.com/openai/v1/chat/completions", "", "groq"),
        ("https://openrouter.ai/api/v1/chat/completions", "", "openrouter"),
        ("__databricks__/serving-endpoints/chat/completions", "", "databricks"),
        ("https://example.org/v1/chat/completions", "", "example.org"),
        (None, "", None),
    ],
)
def test_provider_of(url: str | None, endpoint: str, provider: str | None) -> None:
    assert provider_of(url, endpoint=endpoint) == provider


def test_tool_provider_wins() -> None:
    assert provider_of(None, tool_provider="tavily") == "tavily"


@pytest.mark.parametrize(
    ("test_id", "parts"),
    [
        ("tests/integration/a/test_x.py::test_y[p-1]", ("tests/integration/a/test_x.py", "test_y")),
        ("tests/t.py::TestThing::test_method[a::b]", ("tests/t.py", "TestThing::test_method")),
        ("tests/t.py", ("tests/t.py", None)),
        (None, (None, None)),
        ("", (None, None)),
    ],
)
def test_split_test_id(test_id: str | None, parts: tuple[str | None, str | None]) -> None:
    assert split_test_id(test_id) == parts


@pytest.mark.parametrize(
    ("path", "suite"),
    [
        ("tests/integration/responses/recordings/ab.json", "responses"),
        ("x/tests/integration/providers/nvidia/recordings/ab.json", "nvidia"),
        ("recordings/ab.json", None),
    ],
)
def test_suite_of(path: str, suite: str | None) -> None:
    assert suite_of(path) == suite


@pytest.mark.parametrize(
    ("name", "digest"),
    [
        (f"{'a' * 64}.json", "a" * 64),
        (f"models-{'b' * 64}-0123abcd.json", "b" * 64),
        ("5cc7605f9950.json", "5cc7605f9950"),
    ],
)
def test_hash_of_name(name: str, digest: str) -> None:
    assert hash_of_name(name) == digest


def test_http_tool_and_error_facts() -> None:
    http = derive_facts(
        "r/recordings/x.json",
        10,
        {
            "test_id": "tests/m/test_m.py::test_a",
            "request": {
                "test_id": "t",
                "url": "http://localhost:11434/v1/messages",
                "method": "POST",
                "payload": {"model": "gpt-oss:20b"},
            },
            "response": {"status": 400, "body": {"type": "error"}, "is_streaming": False},
            "id_normalization_mapping": {},
        },
    )
    assert (http.kind, http.endpoint, http.model, http.provider, http.error, http.status, http.era) == (
        "http",
        "/v1/messages",
        "gpt-oss:20b",
        "ollama",
        True,
        400,
        "current",
    )
    tool = derive_facts(
        "r/recordings/y.json",
        10,
        {
            "test_id": "tests/t.py::test_b",
            "request": {
                "test_id": "tests/t.py::test_b",
                "provider": "tavily",
                "tool_name": "web_search",
                "kwargs": {"query": "q"},
            },
            "response": {"body": None, "is_streaming": False},
        },
    )
    assert (tool.kind, tool.endpoint, tool.provider, tool.url, tool.era) == (
        "tool",
        "tavily.web_search",
        "tavily",
        None,
        "isolated",
    )
