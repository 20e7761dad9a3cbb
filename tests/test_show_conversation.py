"""The projection `fixtures show` prints: conversation parts of every dialect, tools, parameters."""

from __future__ import annotations

from typing import Any

import pytest

from llm_fixtures.conversation import (
    content_parts,
    conversation,
    human_size,
    media_placeholder,
    parameters,
    tool_names,
)

B64_3KB = "A" * 4096  # 4096 base64 characters = 3072 bytes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("data:image/png;base64," + B64_3KB, "[image/png 3 KB]"),
        ("data:image/jpeg;base64,QUJD", "[image/jpeg 3 B]"),
        ("https://x/cat.png", "[image https://x/cat.png]"),
        (B64_3KB, "[image 3 KB]"),
        (None, "[image]"),
    ],
)
def test_media_placeholder(value: Any, expected: str) -> None:
    assert media_placeholder("image", value) == expected


@pytest.mark.parametrize(("size", "text"), [(10, "10 B"), (34 * 1024, "34 KB"), (3 * 1024 * 1024, "3.0 MB")])
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("hi", [("text", "hi")]),
        ("", []),
        (None, []),
        (
            [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}],
            [("text", "a"), ("text", "[image/png 3 B]")],
        ),
        (
            [{"type": "input_text", "text": "a"}, {"type": "input_image", "image_url": "https://x/y.png"}],
            [("text", "a"), ("text", "[image https://x/y.png]")],
        ),
        (
            [{"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "QUJD"}}],
            [("text", "[image/gif 3 B]")],
        ),
        ([{"inline_data": {"mime_type": "application/pdf", "data": "QUJD"}}], [("text", "[application/pdf 3 B]")]),
        ([{"type": "input_audio", "input_audio": {"data": "QUJD", "format": "wav"}}], [("text", "[audio/wav 3 B]")]),
        (
            [{"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,QUJD"}}],
            [("text", "[file a.pdf 3 B]")],
        ),
        ([{"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}], [("tool_call", None)]),
        (
            [{"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "ok"}]}],
            [("tool_result", "ok")],
        ),
        ([{"functionCall": {"name": "f", "args": {"a": 1}}}], [("tool_call", None)]),
        ([{"function_response": {"name": "f", "response": {"r": 1}}}], [("tool_result", '{"r": 1}')]),
        ([{"type": "weird", "x": 1}], [("other", '{"type": "weird", "x": 1}')]),
        ([3, None], [("text", "3"), ("text", "null")]),
    ],
)
def test_content_parts(content: Any, expected: list[tuple[str, str | None]]) -> None:
    assert [(part.type, part.text) for part in content_parts(content)] == expected


def test_conversation_of_each_dialect() -> None:
    openai = {
        "messages": [
            {"role": "system", "content": "s"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ]
    }
    roles = [(m.role, [(p.type, p.call_id, p.text or p.arguments) for p in m.parts]) for m in conversation(openai)]
    assert roles == [
        ("system", [("text", None, "s")]),
        ("assistant", [("tool_call", "c1", "{}")]),
        ("tool", [("tool_result", "c1", "42")]),
    ]
    responses = {
        "instructions": "be nice",
        "input": [
            {"role": "user", "content": "q"},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c", "output": "r"},
        ],
    }
    assert [m.role for m in conversation(responses)] == ["system", "user", "assistant", "tool"]
    assert [m.role for m in conversation({"input": "just text"})] == ["user"]
    assert [(m.role, m.parts[0].text) for m in conversation({"input": ["a", "b"]})] == [("input", "a"), ("input", "b")]
    anthropic = {"system": [{"type": "text", "text": "sys"}], "messages": [{"role": "user", "content": "hi"}]}
    assert [m.role for m in conversation(anthropic)] == ["system", "user"]
    gemini = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "config": {"system_instruction": "sys", "temperature": 0},
    }
    assert [(m.role, m.parts[0].text) for m in conversation(gemini)] == [("system", "sys"), ("user", "hi")]
    ollama = {"prompt": "p", "images": ["QUJD"]}
    assert [p.text for p in conversation(ollama)[0].parts] == ["p", "[image 3 B]"]
    chat_images = {"messages": [{"role": "user", "content": "look", "images": ["QUJD"]}]}
    assert [p.text for p in conversation(chat_images)[0].parts] == ["look", "[image 3 B]"]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"tools": [{"type": "function", "function": {"name": "a"}}, {"type": "web_search"}]}, ["a", "web_search"]),
        ({"tools": [{"type": "function", "name": "b"}]}, ["b"]),
        ({"tools": [{"name": "c", "input_schema": {}}]}, ["c"]),
        ({"config": {"tools": [{"function_declarations": [{"name": "d"}, {"name": "e"}]}]}}, ["d", "e"]),
        ({"functions": [{"name": "f"}]}, ["f"]),
        ({"tools": "nope"}, []),
        (None, []),
    ],
)
def test_tool_names(body: Any, names: list[str]) -> None:
    assert tool_names(body) == names


def test_parameters_leave_out_the_conversation() -> None:
    body = {"model": "m", "messages": [], "tools": [], "stream": True, "config": {"temperature": 0.1, "tools": []}}
    assert parameters(body) == {"stream": True, "temperature": 0.1}
