"""A replay stand-in for the sample project's OpenAI chat tests (`recordings/tests/integration`): as upstream's
recorder patches the OpenAI client, `chat.completions.create` looks the request up in the recordings folder beside
the test and raises upstream's message on a miss (tests/upstreamrecorder.py). Run from `recordings/` with this
folder on PYTHONPATH and `openai` installed: `pytest -p samplereplay tests/integration/inference/...`. The client's
base URL stands in for the provider's (an inference key holds only the URL path)."""

from __future__ import annotations

import contextvars
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import upstreamrecorder as recorder

_CONTEXT: contextvars.ContextVar[str | None] = contextvars.ContextVar("sample_test_id", default=None)


@pytest.fixture(autouse=True)
def _track_test_context(request: pytest.FixtureRequest) -> Iterator[None]:
    token = _CONTEXT.set(request.node.nodeid)
    yield
    _CONTEXT.reset(token)


def pytest_configure(config: pytest.Config) -> None:
    # Imported by name: `openai` is the sample project's dependency, not this repository's.
    completions = importlib.import_module("openai.resources.chat.completions")
    types = importlib.import_module("openai.types.chat")

    root = Path(config.rootpath)

    def create(self: Any, **body: Any) -> Any:
        url = str(self._client.base_url).rstrip("/") + "/v1/chat/completions"
        test_id = _CONTEXT.get()
        request_hash = recorder.inference_hash(url, body, test_id)
        recording = recorder.find(root, str(test_id), request_hash)
        if recording is None:
            raise recorder.inference_miss(request_hash, body.get("model", "unknown"), url)
        response = recording["response"]
        if response.get("is_streaming"):
            return iter([types.ChatCompletionChunk.model_validate(chunk["__data__"]) for chunk in response["body"]])
        return types.ChatCompletion.model_validate(response["body"]["__data__"])

    completions.Completions.create = create
