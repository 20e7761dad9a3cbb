"""Gemini Interactions passthrough (`/v1beta/interactions`): the stack forwards the call and streams SSE back."""

from __future__ import annotations

import json

import httpx


def _model(text_model_id: str) -> str:
    return text_model_id.split("/", 1)[1]


def test_interactions_streaming_text(http_client: httpx.Client, text_model_id: str) -> None:
    payload = {"model": _model(text_model_id), "input": "Name the moons of Mars in one short sentence.", "stream": True}
    events = []
    with http_client.stream("POST", "/v1beta/interactions", json=payload) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[len("data: ") :]))
    kinds = [event["event_type"] for event in events]
    assert kinds[0] == "interaction.start" and kinds[-1] == "interaction.complete"
    text = "".join(
        event["delta"].get("text", "")
        for event in events
        if event["event_type"] == "content.delta" and event["delta"]["type"] == "text"
    )
    assert "phobos" in text.lower() and "deimos" in text.lower()
    assert events[-1]["interaction"]["status"] == "completed"
