"""Table-driven tests of the fold rules of ASSEMBLY.md, on small hand-made streams."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

import builders
from llm_fixtures.assembling import assemble, assemble_sse, comparable
from llm_fixtures.assembling.merging import finish, merge_into, repair_surrogates
from llm_fixtures.assembling.sse import parse_text

CHUNK = builders.CHAT_CHUNK


def chunk(*choices: dict[str, Any], **top: Any) -> dict[str, Any]:
    data = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": list(choices)}
    data.update(top)
    return builders.chat_chunk(**data)


def delta(index: int = 0, finish_reason: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"index": index, "delta": fields, "finish_reason": finish_reason}


def tc(index: int | None, call_id: str | None = None, name: str | None = None, args: str | None = None) -> Any:
    fragment: dict[str, Any] = {"id": call_id, "type": "function" if call_id else None}
    if index is not None:
        fragment["index"] = index
    fragment["function"] = {"name": name, "arguments": args}
    return fragment


def message(*chunks: dict[str, Any], choice: int = 0) -> dict[str, Any]:
    result = assemble(list(chunks), is_streaming=True).result
    by_index = {c["index"]: c for c in result["choices"]}
    return by_index[choice]["message"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("deltas", "field", "value"),
    [
        ([{"role": "assistant", "content": "a"}, {"role": "assistant", "content": "b"}], "role", "assistant"),
        ([{"content": "a"}], "role", "assistant"),
        ([{"role": None, "content": None}], "content", None),
        ([{"content": ""}, {"content": ""}], "content", ""),
        ([{"content": "x"}, {"content": None}, {"content": "y"}], "content", "xy"),
        ([{"refusal": "I"}, {"refusal": " can't"}], "refusal", "I can't"),
        ([{"reasoning": "th"}, {"reasoning": "ink"}], "reasoning", "think"),
        ([{"channel": "analysis"}, {"channel": "analysis"}], "channel", "analysis"),
        ([{"token_id": 5}, {"token_id": 7}], "token_id", 7),
        ([{"content": "\ud83d"}, {"content": "\ude00"}], "content", "\U0001f600"),
        (
            [{"function_call": {"name": "f", "arguments": "{"}}, {"function_call": {"name": "f", "arguments": "}"}}],
            "function_call",
            {"name": "f", "arguments": "{}"},
        ),
        ([{"annotations": [{"u": 1}]}, {"annotations": [{"u": 2}]}], "annotations", [{"u": 1}, {"u": 2}]),
        (
            [
                {"reasoning_details": []},
                {"reasoning_details": [{"index": 0, "type": "t", "text": "a", "format": "f"}]},
                {"reasoning_details": [{"index": 0, "text": "b", "format": "f", "signature": "s"}]},
            ],
            "reasoning_details",
            [{"index": 0, "type": "t", "text": "ab", "format": "f", "signature": "s"}],
        ),
    ],
)
def test_message_fields(deltas: list[dict[str, Any]], field: str, value: Any) -> None:
    assert message(*(chunk(delta(**d)) for d in deltas))[field] == value


@pytest.mark.parametrize(
    ("fragments", "expected"),
    [
        # id and name set once, arguments concatenated byte-exactly, null type never overwrites
        (
            [[tc(0, "call_1", "f", "")], [tc(0, None, None, '{"li')], [tc(0, None, None, 'quid"}')]],
            [("call_1", "f", '{"liquid"}')],
        ),
        # repeated id and name in every fragment (TGI, Fireworks)
        ([[tc(0, "0", "f", "{")], [tc(0, "0", "f", "}")]], [("0", "f", "{}")]),
        # the same index with a new id is a new call (Grok)
        ([[tc(0, "a", "f", "{}")], [tc(0, "b", "g", "[]")]], [("a", "f", "{}"), ("b", "g", "[]")]),
        # no index: by id, then the last slot touched
        (
            [[tc(None, "a", "f", "{")], [tc(None, None, None, "}")], [tc(None, "b", "g", "{}")]],
            [("a", "f", "{}"), ("b", "g", "{}")],
        ),
        # several fragments of one index in one delta (Bedrock gpt-oss)
        ([[tc(0, "a", "f", "{"), tc(0, None, None, '"x"'), tc(0, None, None, ":1}")]], [("a", "f", '{"x":1}')]),
        # parallel calls, interleaved
        (
            [[tc(0, "a", "f", "{"), tc(1, "b", "g", "{")], [tc(1, None, None, "}"), tc(0, None, None, "}")]],
            [("a", "f", "{}"), ("b", "g", "{}")],
        ),
    ],
)
def test_tool_calls(fragments: list[list[Any]], expected: list[tuple[str, str, str]]) -> None:
    chunks = [chunk(delta(tool_calls=group)) for group in fragments]
    calls = message(*chunks, chunk(delta(finish_reason="tool_calls")))["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == expected
    assert all(c["type"] == "function" for c in calls)


def test_top_level_rules() -> None:
    filter_chunk = {
        "__type__": CHUNK,
        "__data__": {"id": "", "object": "", "model": "", "choices": [], "prompt_filter_results": [{}]},
    }
    chunks = [
        filter_chunk,
        chunk(delta(role="assistant", content="a"), service_tier=None, system_fingerprint="fp1"),
        chunk(delta(content="b", finish_reason="stop"), service_tier="default"),
        chunk(usage={"total_tokens": 9}),
        chunk(usage=None, system_fingerprint=None),
    ]
    result = assemble(chunks, is_streaming=True).result
    assert (result["id"], result["model"], result["created"]) == ("c1", "m", 1)
    assert result["service_tier"] == "default"
    assert result["system_fingerprint"] == "fp1"
    assert result["usage"] == {"total_tokens": 9}
    assert result["n_items"] == 5
    assert result["choices"][0]["finish_reason"] == "stop"


def test_choices_are_keyed_by_index_and_sorted() -> None:
    chunks = [chunk(delta(1, content="B")), chunk(delta(0, content="A")), chunk(delta(1, content="b"))]
    result = assemble(chunks, is_streaming=True).result
    assert [(c["index"], c["message"]["content"]) for c in result["choices"]] == [(0, "A"), (1, "Bb")]


def test_logprobs_concatenate_and_stay_null_until_sent() -> None:
    chunks = [
        chunk({**delta(content="a"), "logprobs": None}),
        chunk({**delta(content="b"), "logprobs": {"content": [{"token": "b"}], "refusal": None}}),
        chunk({**delta(content="c"), "logprobs": {"content": [{"token": "c"}]}}),
    ]
    choice = assemble(chunks, is_streaming=True).result["choices"][0]
    assert choice["logprobs"] == {"content": [{"token": "b"}, {"token": "c"}], "refusal": None}


@pytest.mark.parametrize(
    ("body", "warning"),
    [
        ([chunk(delta(content="a"))], "choice 0: no finish reason"),
        ([chunk(delta(content="a")), {"error": {"message": "boom"}}], "stream error at item 1: boom"),
        ([chunk(delta(tool_calls=[tc(1, "a", "f", "{}")], finish_reason="tool_calls"))], "have gaps"),
        ([chunk(delta(tool_calls=[tc(0, "a", "f", "{nope")], finish_reason="tool_calls"))], "not JSON"),
        ([], "empty stream"),
        ({"id": "x", "object": "chat.completion", "choices": []}, "not a stream"),
        ({"object": "list", "data": []}, "nothing to assemble"),
        (None, "no response body"),
        (["garbage", "lines"], "not event-stream lines"),
        (["data: {not json", ""], "not JSON"),
    ],
)
def test_warnings(body: Any, warning: str) -> None:
    assembly = assemble(body, is_streaming=True)
    assert any(warning in w for w in assembly.warnings), assembly.warnings


def test_stream_error_keeps_the_partial_message() -> None:
    body = [chunk(delta(content="Partial")), {"error": {"message": "x"}}, chunk(delta(content=" never"))]
    result = assemble(body, is_streaming=True).result
    assert result["stream_error"] == {"at_item": 1, "error": {"message": "x"}}
    assert result["choices"][0]["message"]["content"] == "Partial"
    assert result["n_items"] == 1


@pytest.mark.parametrize(
    "body",
    [
        [1, "x", None, [], {}],
        [{"__type__": CHUNK, "__data__": None}],
        [{"__type__": CHUNK, "__data__": {"choices": [None, 3, {"delta": 5}, {"index": "x", "delta": {}}]}}],
        [chunk({"index": 0, "delta": {"tool_calls": [None, {"index": "a"}, {"function": 3}]}})],
        [chunk({"index": 0, "delta": {"content": 5, "role": 3, "refusal": [], "weird": {"a": [1, {"index": 1}]}}})],
        [chunk({"index": 0, "delta": {"weird": "a"}}), chunk({"index": 0, "delta": {"weird": {"b": 1}}})],
        [{"type": "message_start", "message": None}, {"type": "content_block_delta", "index": 7}],
        [{"type": "response.output_text.delta", "output_index": None, "delta": 3}],
        [{"model": "x", "done": False, "message": "not a dict"}],
        [{"candidates": [None, {"content": {"parts": [None, {"text": 1}]}}]}],
        {"__type__": "x", "__data__": {"choices": "no"}},
        "data: {}\n\n",
        [{"event_type": "content.delta", "index": 0, "delta": None}],
    ],
)
def test_garbage_never_raises(body: Any) -> None:
    assembly = assemble(body, is_streaming=True)
    assembly.model_dump_json()


def test_non_stream_twins_compare_equal() -> None:
    ollama_stream = [
        {"model": "m", "created_at": "t", "response": "He", "done": False},
        {"model": "m", "created_at": "t", "response": "llo", "done": True, "done_reason": "stop", "eval_count": 2},
    ]
    ollama_single = {
        "model": "m",
        "created_at": "t",
        "response": "Hello",
        "done": True,
        "done_reason": "stop",
        "eval_count": 2,
    }
    one, many = assemble(ollama_single, is_streaming=False), assemble(ollama_stream, is_streaming=True)
    assert comparable(one.result) == comparable(many.result)

    anthropic_stream = [
        "event: message_start",
        'data: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"c",'
        '"content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}',
        "",
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f",'
        '"input":{}}}',
        "",
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\""}}',
        "",
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":": 1}"}}',
        "",
        'data: {"type":"content_block_stop","index":0}',
        "",
        'data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
        '"usage":{"output_tokens":9}}',
        "",
        'data: {"type":"message_stop"}',
        "",
    ]
    anthropic_single = {
        "id": "m1",
        "type": "message",
        "role": "assistant",
        "model": "c",
        "stop_sequence": None,
        "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 3, "output_tokens": 9},
    }
    one, many = assemble(anthropic_single, is_streaming=False), assemble(anthropic_stream, is_streaming=True)
    assert comparable(one.result) == comparable(many.result)
    assert many.warnings == []


def test_responses_deltas_disagreeing_with_terminal_event_warn() -> None:
    events = [
        {"type": "response.created", "response": {"id": "r", "model": "m", "output": []}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": ""},
        },
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": '{"a":1}'},
        {
            "type": "response.completed",
            "response": {
                "id": "r",
                "model": "m",
                "status": "completed",
                "output": [{"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": '{"a":2}'}],
            },
        },
    ]
    assembly = assemble(events, is_streaming=True)
    assert assembly.result["output"][0]["arguments"] == '{"a":2}'
    assert any("disagrees" in w for w in assembly.warnings), assembly.warnings


def test_sse_parsing() -> None:
    text = ': comment\r\nevent: x\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: [DONE]\r\n\r\ndata: {}'
    events = parse_text(text)
    assert [(e.name, e.data) for e in events] == [("x", '{"a":\n1}'), ("", "[DONE]"), ("", "{}")]
    sse = "data: " + '{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}'
    assembly = assemble_sse(f"{sse}\n\n: keepalive\n\ndata: [DONE]\n\n{sse}\n\n")
    assert assembly.result["choices"][0]["message"]["content"] == "hi"
    assert assembly.result["n_items"] == 1


def test_generic_merge_and_surrogates() -> None:
    acc: dict[str, Any] = {}
    merge_into(acc, {"type": "a", "id": "x", "n": 1, "text": "p", "items": [{"index": 1, "t": "a"}]})
    merge_into(acc, {"type": "b", "id": "x", "n": 2, "text": "q", "items": [{"index": 1, "t": "b"}, {"v": 1}]})
    assert finish(acc) == {"type": "b", "id": "x", "n": 2, "text": "pq", "items": [{"index": 1, "t": "ab"}, {"v": 1}]}
    assert repair_surrogates("\ud83d\ude00") == "\U0001f600"
    assert repair_surrogates("a\ud83d") == "a\ufffd"


def test_fold_is_linear() -> None:
    def stream(n: int) -> list[dict[str, Any]]:
        return [chunk(delta(content="x" * 20, tool_calls=[tc(0, "a" if i == 0 else None, "f", "y")])) for i in range(n)]

    def timed(n: int) -> float:
        # CPU time, best of three: a loaded machine (the suite runs on every core) moves wall time far more.
        body = stream(n)
        times = []
        for _ in range(3):
            start = time.process_time()
            assemble(body, is_streaming=True)
            times.append(time.process_time() - start)
        return min(times)

    small, large = timed(2_000), timed(40_000)
    assert large < 60 * small + 0.5  # 20x the chunks: linear is 20x, quadratic would be 400x


def test_audio_data_is_decoded_per_chunk_and_joined() -> None:
    import base64

    pieces = [b"RIFF", b"\x00\x01", b"wave"]
    chunks = [
        chunk(delta(audio={"id": "a1", "data": base64.b64encode(p).decode(), "transcript": t}))
        for p, t in zip(pieces, ["he", "ll", "o"], strict=True)
    ]
    chunks.append(chunk(delta(audio={"expires_at": 9}, finish_reason="stop")))
    audio = message(*chunks)["audio"]
    assert base64.b64decode(audio["data"]) == b"".join(pieces)
    assert (audio["id"], audio["transcript"], audio["expires_at"]) == ("a1", "hello", 9)


def test_truncated_responses_stream_keeps_streamed_annotations_and_text() -> None:
    events = [
        {"type": "response.created", "response": {"id": "r", "model": "m"}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "message", "id": "m1", "role": "assistant", "status": "in_progress", "content": []},
        },
        {
            "type": "response.content_part.added",
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "output_text", "text": "", "annotations": []},
        },
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "Hel"},
        {
            "type": "response.output_text.annotation.added",
            "output_index": 0,
            "content_index": 0,
            "annotation_index": 0,
            "annotation": {"type": "url_citation", "url": "u"},
        },
        {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "lo"},
    ]
    assembly = assemble(events, is_streaming=True)
    (item,) = assembly.result["output"]
    assert item["content"] == [
        {"type": "output_text", "text": "Hello", "annotations": [{"type": "url_citation", "url": "u"}]}
    ]
    assert assembly.result["status"] == "in_progress"
    assert any("truncated" in w for w in assembly.warnings)


@pytest.mark.parametrize(
    ("events", "kind"),
    [
        (
            [{"type": "response.created", "response": {"id": "r"}}, {"type": "error", "code": "x", "message": "boom"}],
            "responses",
        ),
        (
            [
                "event: message_start",
                'data: {"type":"message_start","message":{"id":"m","content":[]}}',
                "",
                "event: error",
                'data: {"type":"error","error":{"type":"overloaded_error","message":"boom"}}',
                "",
            ],
            "anthropic",
        ),
        ([{"model": "m", "response": "a", "done": False}, {"error": "boom"}], "ollama.generate"),
    ],
)
def test_stream_errors_of_other_dialects(events: list[Any], kind: str) -> None:
    assembly = assemble(events, is_streaming=True)
    assert assembly.kind == kind
    assert assembly.result["stream_error"]["at_item"] == 1
    assert any("stream error at item 1: boom" in w for w in assembly.warnings), assembly.warnings


def test_gemini_candidates_fold() -> None:
    chunks = [
        {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "Hm", "thought": True}]}}],
            "model_version": "g",
            "response_id": "r",
        },
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}}]},
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": "lo"}, {"functionCall": {"name": "f", "args": {"a": 1}}}]},
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {"totalTokenCount": 3},
        },
    ]
    result = assemble(chunks, is_streaming=True).result
    assert result["kind"] == "gemini"
    assert (result["response_id"], result["model_version"]) == ("r", "g")
    assert result["candidates"] == [
        {
            "index": 0,
            "finish_reason": "STOP",
            "content": {
                "role": "model",
                "parts": [
                    {"text": "Hm", "thought": True},
                    {"text": "Hello"},
                    {"functionCall": {"name": "f", "args": {"a": 1}}},
                ],
            },
        }
    ]
    assert result["usage_metadata"] == {"totalTokenCount": 3}
    one = assemble(
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello"}]}, "finish_reason": "STOP"}]},
        is_streaming=False,
    )
    assert one.result["candidates"][0]["content"]["parts"] == [{"text": "Hello"}]


def test_gemini_interactions_stream_and_object() -> None:
    lines = []
    for event in (
        {"event_type": "interaction.start", "interaction": {"id": "i", "model": "g", "status": "in_progress"}},
        {"event_type": "content.start", "index": 0, "content": {"type": "text"}},
        {"event_type": "content.delta", "index": 0, "delta": {"type": "text", "text": "He"}},
        {"event_type": "content.delta", "index": 0, "delta": {"type": "text", "text": "y"}},
        {"event_type": "interaction.complete", "interaction": {"id": "i", "status": "completed", "usage": {"t": 1}}},
    ):
        lines += [f"event: {event['event_type']}", f"data: {json.dumps(event)}", ""]
    streamed = assemble([*lines, "event: done", "data: [DONE]", ""], is_streaming=True)
    assert streamed.result["outputs"] == [{"type": "text", "text": "Hey"}]
    assert (streamed.result["status"], streamed.result["usage"]) == ("completed", {"t": 1})
    single = assemble(
        {
            "object": "interaction",
            "id": "i",
            "model": "g",
            "status": "completed",
            "outputs": [{"type": "text", "text": "Hey"}],
            "usage": {"t": 1},
        },
        is_streaming=False,
    )
    assert comparable(single.result) == comparable(streamed.result)
    assert streamed.warnings == single.warnings == []
