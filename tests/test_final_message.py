"""The neutral answer model (`assembling.final`): every dialect's assembled answer read into one shape, the one
`show --assemble` prints and `diff` compares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import corpus_files
from llm_fixtures.assembling import assemble
from llm_fixtures.assembling.final import ToolCall, answer_of, final_message, listed_models

CHAT = [
    {
        "object": "chat.completion.chunk",
        "model": "m",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "delta": {
                    "content": "c",
                    "reasoning": "r",
                    "refusal": "no",
                    "tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"a":1}'}}],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
]
RESPONSES = {
    "object": "response",
    "status": "completed",
    "model": "gpt-4o",
    "output": [
        {
            "type": "reasoning",
            "summary": [{"type": "summary_text", "text": "s1"}, {"type": "summary_text", "text": "s2"}],
        },
        {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["q"]},
        {"type": "function_call", "call_id": "call_2", "name": "g", "arguments": "{}"},
        {
            "type": "message",
            "content": [
                {"type": "output_text", "text": "x", "annotations": [{"type": "file_citation"}]},
                {"type": "refusal", "refusal": "nope"},
            ],
        },
        {"type": "web_search_preview_result", "data": 1},
    ],
}
ANTHROPIC = {
    "type": "message",
    "role": "assistant",
    "model": "claude",
    "stop_reason": "tool_use",
    "content": [
        {"type": "thinking", "thinking": "tk"},
        {"type": "text", "text": "a"},
        {"type": "tool_use", "id": "tu_1", "name": "h", "input": {"b": 2}},
        {"type": "web_search_tool_result", "content": []},
    ],
}
OLLAMA_CHAT = {
    "model": "llama",
    "message": {"role": "assistant", "content": "o", "thinking": "th", "tool_calls": [{"function": {"name": "k"}}]},
    "done": True,
    "done_reason": "stop",
    "prompt_eval_count": 3,
    "eval_count": 4,
}
GEMINI = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [{"text": "th", "thought": True}, {"text": "y"}, {"function_call": {"name": "z", "args": {}}}],
            },
            "finish_reason": "STOP",
        }
    ],
    "model_version": "gemini-2",
    "usage_metadata": {"total_token_count": 5},
}
INTERACTIONS = {
    "object": "interaction",
    "status": "completed",
    "role": "model",
    "outputs": [{"type": "thought", "summary": [{"text": "why"}]}, {"type": "text", "text": "i"}],
}


@pytest.mark.parametrize(
    ("body", "kind", "text", "reasoning", "refusal", "calls", "finish"),
    [
        (CHAT, "chat.completion.chunk", "c", "r", "no", [("f", "function")], "tool_calls"),
        (
            [{"object": "text_completion", "choices": [{"index": 0, "text": "t", "finish_reason": "length"}]}],
            "text_completion",
            "t",
            None,
            None,
            [],
            "length",
        ),
        (
            RESPONSES,
            "responses",
            "x",
            "s1\n\ns2",
            "nope",
            [("file_search_call", "file_search_call"), ("g", "function")],
            "completed",
        ),
        (ANTHROPIC, "anthropic", "a", "tk", None, [("h", "function")], "tool_use"),
        (OLLAMA_CHAT, "ollama.chat", "o", "th", None, [("k", "function")], "stop"),
        (
            {"model": "m", "response": "g", "done": True, "done_reason": "stop"},
            "ollama.generate",
            "g",
            None,
            None,
            [],
            "stop",
        ),
        (GEMINI, "gemini", "y", "th", None, [("z", "function")], "STOP"),
        (INTERACTIONS, "gemini.interactions", "i", "why", None, [], "completed"),
    ],
)
def test_every_dialect_reads_into_one_shape(
    body: Any,
    kind: str,
    text: str,
    reasoning: str | None,
    refusal: str | None,
    calls: list[tuple[str, str]],
    finish: str,
) -> None:
    final = answer_of(body, is_streaming=isinstance(body, list))
    assert final.kind == kind
    (choice,) = final.choices
    assert (choice.text, choice.reasoning, choice.refusal, choice.finish_reason) == (text, reasoning, refusal, finish)
    assert [(call.name, call.kind) for call in choice.tool_calls] == calls


def test_nothing_the_answer_said_is_lost() -> None:
    chat = answer_of(CHAT, is_streaming=True)
    assert chat.rest["service_tier"] == "default" and chat.model == "m"
    responses = answer_of(RESPONSES, is_streaming=False)
    (choice,) = responses.choices
    assert choice.rest["annotations"] == [[{"type": "file_citation"}]]
    assert choice.other == [{"type": "web_search_preview_result", "data": 1}]
    assert choice.tool_calls[0].arguments == {"queries": ["q"]}
    anthropic = answer_of(ANTHROPIC, is_streaming=False)
    assert anthropic.choices[0].other == [{"type": "web_search_tool_result", "content": []}]
    assert anthropic.model == "claude"
    assert answer_of(OLLAMA_CHAT, is_streaming=False).usage == {"prompt_eval_count": 3, "eval_count": 4}
    gemini = answer_of(GEMINI, is_streaming=False)
    assert (gemini.model, gemini.usage) == ("gemini-2", {"total_token_count": 5})


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ([{"__type__": "openai.types.model.Model", "__data__": {"id": "gpt-4o", "object": "model"}}], ["gpt-4o"]),
        ({"object": "list", "data": [{"id": "a", "object": "model"}]}, ["a"]),
        ({"__type__": "ollama._types.ProcessResponse", "__data__": {"models": [{"name": "l", "model": "l"}]}}, ["l"]),
        ({"models": []}, []),
    ],
)
def test_model_listings_are_their_own_kind(body: Any, names: list[str]) -> None:
    final = answer_of(body, is_streaming=False)
    assert final.kind == "models"
    assert [m.get("id") or m.get("name") for m in final.models or []] == names


def test_a_body_that_is_no_message_is_kept_whole() -> None:
    embeddings = {"object": "list", "data": [{"object": "embedding", "embedding": [0.1], "index": 0}]}
    final = answer_of({"__type__": "openai.types.CreateEmbeddingResponse", "__data__": embeddings}, is_streaming=False)
    assert (final.kind, final.rest) == ("body", {"body": embeddings})
    assert listed_models(embeddings) is None


def test_a_stream_error_is_the_error() -> None:
    final = answer_of([{"error": {"message": "boom"}}], is_streaming=True)
    assert final.kind == "error" and final.error == {"at_item": 0, "error": {"message": "boom"}}


@pytest.mark.parametrize(
    ("arguments", "parsed"),
    [('{"a":1}', (True, {"a": 1})), ({"a": 1}, (True, {"a": 1})), ("{bad", (False, "{bad")), ("", (True, None))],
)
def test_tool_call_arguments_parsed_once(arguments: Any, parsed: tuple[bool, Any]) -> None:
    assert ToolCall("f", arguments).parsed_arguments() == parsed


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name[:16])
def test_every_corpus_answer_reads_without_error(path: Path) -> None:
    raw = orjson.loads(path.read_bytes()) if b"\\ud" not in path.read_bytes() else None
    if not isinstance(raw, dict) or not isinstance(raw.get("response"), dict):
        pytest.skip("not a recording orjson reads")
    response = raw["response"]
    assembly = assemble(response.get("body"), is_streaming=bool(response.get("is_streaming")))
    final = final_message(assembly.kind, assembly.result, assembly.warnings)
    assert final.kind == assembly.kind or final.kind in ("models", "body")
    if assembly.kind not in ("unknown", "empty", "none", "error"):
        assert final.choices or final.kind == "responses"
