"""Anthropic Messages passthrough (`/v1/messages`): the stack forwards the call and streams SSE back."""

from __future__ import annotations

import json

import httpx


def _model(text_model_id: str) -> str:
    return text_model_id.split("/", 1)[1]


def test_messages_streaming_text(http_client: httpx.Client, text_model_id: str) -> None:
    payload = {
        "model": _model(text_model_id),
        "max_tokens": 128,
        "messages": [{"role": "user", "content": "List the three primary colors of light, comma-separated."}],
        "stream": True,
    }
    text, stop_reason = "", None
    with http_client.stream("POST", "/v1/messages", json=payload) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[len("data: ") :])
            if event["type"] == "content_block_delta" and event["delta"]["type"] == "text_delta":
                text += event["delta"]["text"]
            elif event["type"] == "message_delta":
                stop_reason = event["delta"]["stop_reason"]
    assert stop_reason == "end_turn"
    assert "green" in text.lower()


def test_messages_rejects_empty_messages(http_client: httpx.Client, text_model_id: str) -> None:
    response = http_client.post(
        "/v1/messages", json={"model": _model(text_model_id), "max_tokens": 128, "messages": []}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
