"""Ollama's native API (`/api/generate`, `/api/chat`), called with the ollama client rather than the OpenAI one."""

from __future__ import annotations

import os

import pytest
from ollama import Client

TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_time",
        "description": "Get the current local time in a time zone",
        "parameters": {
            "type": "object",
            "properties": {"timezone": {"type": "string", "description": "IANA time zone name, e.g. Europe/Paris"}},
            "required": ["timezone"],
        },
    },
}


@pytest.fixture(scope="module")
def ollama_client() -> Client:
    return Client(host=os.environ.get("OLLAMA_URL", "http://localhost:11434"))


def test_ollama_generate_streaming(ollama_client: Client, text_model_id: str) -> None:
    parts = list(
        ollama_client.generate(
            model=text_model_id.split("/", 1)[1],
            prompt="Write a haiku about autumn leaves.",
            options={"temperature": 0.0},
            stream=True,
        )
    )
    assert parts[-1].done and parts[-1].done_reason == "stop"
    assert parts[-1].context, "the final item carries the context tokens"
    text = "".join(part.response for part in parts)
    assert len(text.splitlines()) == 3


def test_ollama_chat_streaming_thinking_tool_call(ollama_client: Client, text_model_id: str) -> None:
    parts = list(
        ollama_client.chat(
            model=text_model_id.split("/", 1)[1],
            messages=[{"role": "user", "content": "What time is it in Tokyo right now?"}],
            tools=[TIME_TOOL],
            stream=True,
            think=True,
        )
    )
    assert parts[-1].done and parts[-1].done_reason == "stop"
    assert "".join(part.message.thinking or "" for part in parts), "a thinking model thinks before it calls"
    # Ollama streams each tool call whole, its arguments already an object.
    calls = [call.function for part in parts for call in part.message.tool_calls or []]
    assert [(call.name, dict(call.arguments)) for call in calls] == [("get_current_time", {"timezone": "Asia/Tokyo"})]
