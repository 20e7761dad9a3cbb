"""OpenAI-compatible chat completions through the stack: streaming, non-streaming, tools and reasoning."""

from __future__ import annotations

import json

import pytest
from openai import OpenAI

CASES = {
    "inference:chat_completion:streaming_01": {
        "messages": [
            {"role": "user", "content": "Which planet in our solar system has the most moons? Answer in one sentence."}
        ],
        "expected": "saturn",
    },
    "inference:chat_completion:non_streaming_01": {
        "messages": [
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "Name the three primary colors of paint."},
        ],
        "expected": "blue",
    },
    "inference:chat_completion:non_streaming_02": {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant for Llama Stack users."},
            {"role": "user", "content": "In one sentence, what does a vector store hold?"},
        ],
        "expected": "embedding",
    },
    "inference:chat_completion:non_streaming_03": {
        "messages": [
            {"role": "user", "content": "Round 3.14159265 to two decimal places and reply with the number only."}
        ],
        "expected": "3.14",
    },
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Lisbon"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


def _model(text_model_id: str) -> str:
    return text_model_id.split("/", 1)[1]


@pytest.mark.parametrize("test_case", ["inference:chat_completion:streaming_01"])
def test_openai_chat_completion_streaming(openai_client: OpenAI, text_model_id: str, test_case: str) -> None:
    case = CASES[test_case]
    stream = openai_client.chat.completions.create(
        model=_model(text_model_id),
        messages=case["messages"],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert case["expected"] in text.lower()
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0


def test_openai_chat_completion_streaming_parallel_tools(openai_client: OpenAI, text_model_id: str) -> None:
    stream = openai_client.chat.completions.create(
        model=_model(text_model_id),
        messages=[{"role": "user", "content": "What's the weather in Lisbon and in Oslo right now? Use celsius."}],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
        parallel_tool_calls=True,
        stream=True,
        stream_options={"include_usage": True},
    )
    calls: dict[int, dict[str, str]] = {}
    finish_reason = None
    for chunk in stream:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        for delta in choice.delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = delta.id or call["id"]
            if delta.function:
                call["name"] = delta.function.name or call["name"]
                call["arguments"] += delta.function.arguments or ""
        finish_reason = choice.finish_reason or finish_reason
    assert finish_reason == "tool_calls"
    assert len(calls) == 2
    cities = sorted(json.loads(call["arguments"])["city"] for call in calls.values())
    assert cities == ["Lisbon", "Oslo"]
    assert all(call["id"].startswith("call_") and call["name"] == "get_weather" for call in calls.values())


@pytest.mark.parametrize(
    "test_case",
    [
        "inference:chat_completion:non_streaming_01",
        "inference:chat_completion:non_streaming_02",
        "inference:chat_completion:non_streaming_03",
    ],
)
def test_openai_chat_completion_non_streaming(openai_client: OpenAI, text_model_id: str, test_case: str) -> None:
    case = CASES[test_case]
    response = openai_client.chat.completions.create(
        model=_model(text_model_id), messages=case["messages"], stream=False, temperature=0.0
    )
    assert response.choices[0].finish_reason == "stop"
    assert case["expected"] in (response.choices[0].message.content or "").lower()


def test_openai_chat_completion_streaming_reasoning(openai_client: OpenAI, text_model_id: str) -> None:
    stream = openai_client.chat.completions.create(
        model=_model(text_model_id),
        messages=[{"role": "user", "content": "Is 91 a prime number? Answer yes or no, then give the factors."}],
        max_tokens=256,
        stream=True,
    )
    reasoning, content = [], []
    for chunk in stream:
        delta = chunk.choices[0].delta
        reasoning.append(getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None) or "")
        content.append(delta.content or "")
    assert "".join(reasoning), "the model should think before answering"
    assert "".join(content).lower().startswith("no")
