"""Ollama's native API (`/api/generate`), called with the ollama client rather than the OpenAI one."""

from __future__ import annotations

import os

import pytest
from ollama import Client


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
