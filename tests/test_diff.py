"""The pure diff: volatile fields, word diffs, tool-call arguments by JSON path, classes of change per pair."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest

import builders
from llm_fixtures.assembling.final import ToolCall, final_message
from llm_fixtures.decoding import parse_json
from llm_fixtures.diffing.changes import field_changes, tool_call_changes, word_diff
from llm_fixtures.diffing.comparing import compare
from llm_fixtures.diffing.report import PairReport
from llm_fixtures.diffing.volatility import (
    build_volatility,
    changed_fields,
    strip_request,
    strip_response,
    strip_response_fast,
)
from llm_fixtures.facts import derive_facts
from llm_fixtures.models import RecordingFile

VOLATILITY = build_volatility()


def chunk(content: str | None = None, *, finish: str | None = None, usage: Any = None, **extra: Any) -> dict[str, Any]:
    data = {
        "id": "rec-abc",
        "created": 0,
        "model": "gpt-4o",
        "object": "chat.completion.chunk",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": usage,
        **extra,
    }
    return builders.chat_chunk(**data)


def recording(body: list[dict[str, Any]], *, question: str = "hi", test_id: str = "t.py::t") -> dict[str, Any]:
    request = builders.sdk_request(
        "https://api.openai.com/v1/v1/chat/completions",
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": question}], "stream": True},
        provider_metadata={"openai_sdk_version": "2.5.0"},
    )
    return builders.recording(request, body, streaming=True, test_id=test_id)


USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
BASE = recording([chunk("Hello"), chunk(" big world"), chunk(None, finish="stop"), chunk(None, usage=USAGE)])


def classes(old: dict[str, Any], new: dict[str, Any], **kwargs: Any) -> list[str]:
    volatility = kwargs.get("volatility", VOLATILITY)
    sides = []
    for raw in (old, new):
        RecordingFile.model_validate(raw)
        sides.append((raw, derive_facts("x.json", 1, raw)))
    changes, _details = compare(sides[0], sides[1], volatility)
    return list(changes)


def edited(change: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    change(raw)
    return raw


def _data(raw: dict[str, Any], index: int) -> dict[str, Any]:
    data: dict[str, Any] = raw["response"]["body"][index]["__data__"]
    return data


def _set_model(raw: dict[str, Any]) -> None:
    raw["request"]["model"] = raw["request"]["body"]["model"] = "gpt-4o-mini"


CASES: list[tuple[str, Any, list[str]]] = [
    ("identical", lambda _raw: None, []),
    ("ids churn", lambda raw: [_data(raw, i).update(id="chatcmpl-9") for i in range(4)], ["volatile"]),
    ("obfuscation", lambda raw: _data(raw, 0).update(obfuscation="xyz"), ["volatile"]),
    ("fingerprint", lambda raw: _data(raw, 3).update(system_fingerprint="fp_2"), ["volatile"]),
    ("sdk version", lambda raw: raw["request"]["provider_metadata"].update(openai_sdk_version="2.30.0"), ["volatile"]),
    (
        "rechunked",
        lambda raw: raw["response"].update(
            body=[chunk("Hel"), chunk("lo big"), chunk(" world"), chunk(None, finish="stop"), chunk(None, usage=USAGE)]
        ),
        ["chunking"],
    ),
    ("text", lambda raw: _data(raw, 1)["choices"][0]["delta"].update(content=" small world"), ["content"]),
    ("finish", lambda raw: _data(raw, 2)["choices"][0].update(finish_reason="length"), ["finish_reason"]),
    ("usage", lambda raw: _data(raw, 3).update(usage={**USAGE, "completion_tokens": 4}), ["usage"]),
    ("request", lambda raw: raw["request"]["body"]["messages"][0].update(content="hello"), ["request"]),
    ("model", _set_model, ["model"]),
    ("url", lambda raw: raw["request"].update(url="https://x.openai.azure.com/v1/chat/completions"), ["url"]),
    ("endpoint", lambda raw: raw["request"].update(endpoint="/v1/completions"), ["endpoint"]),
    (
        "reasoning",
        lambda raw: _data(raw, 0)["choices"][0]["delta"].update(reasoning="thinking..."),
        ["reasoning"],
    ),
    (
        "error",
        lambda raw: raw["response"].update(
            body=None,
            is_streaming=False,
            is_exception=True,
            exception_data={"category": "provider_sdk", "status_code": 400},
            exception_message="Error code: 400",
        ),
        ["error"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in CASES], ids=[n for n, _, _ in CASES])
def test_classes_of_change(change: Any, expected: list[str]) -> None:
    assert classes(BASE, edited(change)) == expected


def test_text_and_churn_together_report_both() -> None:
    def change(raw: dict[str, Any]) -> None:
        _data(raw, 1)["choices"][0]["delta"]["content"] = " small world"
        for i in range(4):
            _data(raw, i)["id"] = "chatcmpl-new"

    assert classes(BASE, edited(change)) == ["volatile", "content"]


def test_user_volatile_fields_from_config() -> None:
    new = edited(lambda raw: _data(raw, 0).update(x_trace="abc"))
    assert classes(BASE, new) == ["chunking"]
    assert classes(BASE, new, volatility=build_volatility(["x_trace"])) == ["volatile"]
    request_change = edited(lambda raw: raw["request"]["body"].update(seed=7))
    assert classes(BASE, request_change) == ["request"]
    assert classes(BASE, request_change, volatility=build_volatility(["request.body.seed"])) == ["volatile"]


def test_model_list_ids_are_not_volatile() -> None:
    found: dict[str, set[str]] = {}
    body = [{"__type__": "openai.types.model.Model", "__data__": {"id": "gpt-4o", "object": "model", "created": 1}}]
    stripped = strip_response(body, VOLATILITY, found)
    assert stripped == [{"__type__": "openai.types.model.Model", "__data__": {"id": "gpt-4o", "object": "model"}}]
    assert set(found) == {"created"}


def test_request_volatility_is_by_path_so_a_schema_property_named_id_is_kept() -> None:
    request: dict[str, Any] = {
        "body": {
            "messages": [
                {"role": "assistant", "tool_calls": [{"id": "call_1", "function": {"name": "f"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "42"},
            ],
            "tools": [{"function": {"parameters": {"properties": {"id": {"type": "string"}}}}}],
        },
        "provider_metadata": {"openai_sdk_version": "2.5.0", "azure_api_version": "x"},
    }
    found: dict[str, set[str]] = {}
    stripped = strip_request(request, VOLATILITY, found)
    assert stripped["body"]["messages"][0]["tool_calls"] == [{"function": {"name": "f"}}]
    assert "tool_call_id" not in stripped["body"]["messages"][1]
    assert stripped["body"]["tools"] == request["body"]["tools"]
    assert stripped["provider_metadata"] == {"azure_api_version": "x"}
    assert changed_fields(found, {}) == ["id", "openai_sdk_version", "tool_call_id"]


def test_field_changes_see_private_style_keys() -> None:
    old = {"__type__": "a.B", "__data__": {"x": 1}, "keep": [1, 2]}
    new = {"__type__": "a.C", "__data__": {"x": 2}, "keep": [1, 2, 3], "more": "yes"}
    paths = [(c.path, c.old, c.new) for c in field_changes(old, new)]
    assert paths == [
        ("$.__data__.x", 1, 2),
        ("$.__type__", "a.B", "a.C"),
        ("$.keep[2]", None, 3),
        ("$.more", None, "yes"),
    ]


def test_word_diff_marks_changed_words_and_trims_long_unchanged_runs() -> None:
    change = word_diff("the quick brown fox", "the slow brown fox")
    assert change.ops == [("=", "the "), ("-", "quick"), ("+", "slow"), ("=", " brown fox")]
    long_old = " ".join(f"w{i}" for i in range(200)) + " end"
    long_new = " ".join(f"w{i}" for i in range(200)) + " END"
    ops = word_diff(long_old, long_new).ops
    assert ops[-2:] == [("-", "end"), ("+", "END")]
    assert ops[0][0] == "=" and ops[0][1].startswith(" … ") and ops[0][1].endswith("w199 ")
    assert word_diff(None, "new").ops == [("+", "new")]


def test_tool_call_arguments_compare_as_json() -> None:
    old = [ToolCall("weather", '{"city": "Paris", "units": {"t": "C"}}')]
    same_json = [ToolCall("weather", '{"units":{"t":"C"},"city":"Paris"}')]
    assert tool_call_changes(old, same_json) == []
    new = [ToolCall("weather", '{"city": "Lyon", "units": {"t": "F"}}')]
    (change,) = tool_call_changes(old, new)
    assert [(c.path, c.old, c.new) for c in change.arguments] == [("$.city", "Paris", "Lyon"), ("$.units.t", "C", "F")]
    broken = [ToolCall("weather", '{"city": "Par')]
    (change,) = tool_call_changes(old, broken)
    assert change.arguments_text is not None and change.arguments == []
    (added,) = tool_call_changes([], new)
    assert (added.old_name, added.new_name) == (None, "weather")


@pytest.mark.parametrize(
    ("result", "kind", "text", "finish"),
    [
        (
            {"choices": [{"index": 0, "message": {"content": "a"}, "finish_reason": "stop"}]},
            "chat.completion.chunk",
            "a",
            "stop",
        ),
        ({"choices": [{"index": 0, "text": "b", "finish_reason": "length"}]}, "text_completion", "b", "length"),
        (
            {"message": {"content": [{"type": "text", "text": "c"}], "stop_reason": "end_turn"}},
            "anthropic",
            "c",
            "end_turn",
        ),
        ({"message": {"content": "d"}, "done": True, "done_reason": "stop"}, "ollama.chat", "d", "stop"),
        ({"response": "e", "done": True, "done_reason": "stop"}, "ollama.generate", "e", "stop"),
        ({"candidates": [{"content": {"parts": [{"text": "f"}]}, "finish_reason": "STOP"}]}, "gemini", "f", "STOP"),
        ({"outputs": [{"type": "text", "text": "g"}], "status": "completed"}, "gemini.interactions", "g", "completed"),
        (
            {"output": [{"type": "message", "content": [{"type": "output_text", "text": "h"}]}], "status": "completed"},
            "responses",
            "h",
            "completed",
        ),
    ],
)
def test_final_message_of_every_assembled_shape(result: dict[str, Any], kind: str, text: str, finish: str) -> None:
    (choice,) = final_message(kind, result).choices
    assert (choice.text, choice.finish_reason) == (text, finish)


def test_report_json_keeps_top_level_keys_and_drops_empty_details() -> None:
    report = PairReport(old=None, new="a.json", status="added")
    assert report.to_json() == (
        b'{"old":null,"new":"a.json","test_id":null,"endpoint":null,"status":"added","paired_by":null,'
        b'"changes":[],"details":{}}'
    )
    assert report.meaningful
    assert not PairReport(old="a", new="a", status="changed", changes=["volatile", "chunking"]).meaningful


def test_fast_volatile_strip_agrees_with_the_walk_on_every_corpus_body(corpus: Path) -> None:
    checked = 0
    for path in sorted(corpus.rglob("*.json")):
        raw = parse_json(path.read_bytes(), path)
        if not isinstance(raw, dict) or not isinstance(raw.get("response"), dict):
            continue
        body = raw["response"].get("body")
        fast = strip_response_fast(body, VOLATILITY)
        if fast is None:
            continue
        found: dict[str, set[str]] = {}
        walked = strip_response(body, VOLATILITY, found)
        assert fast == (orjson.dumps(walked, option=orjson.OPT_SORT_KEYS), found), path
        checked += 1
    assert checked > 100


def test_markdown_fences_survive_backticks_in_the_text() -> None:
    from llm_fixtures.diffing.report import Details
    from llm_fixtures.render.diff import render_markdown

    change = word_diff("Use ```python\nprint(1)\n``` here", "Use ```python\nprint(2)\n``` here")
    report = PairReport(
        old="a.json", new="a.json", status="changed", changes=["content"], details=Details(content=change)
    )
    text = render_markdown([report], "old", "new", show_all=False)
    assert "````diff" in text and "\n````\n" in text
    assert "- Use ```python" in text and "+ Use ```python" in text


def test_metadata_of_sdk_versions_only_is_the_same_as_none() -> None:
    def drop(raw: dict[str, Any]) -> None:
        del raw["request"]["provider_metadata"]

    assert classes(BASE, edited(drop)) == ["volatile"]


def _churn_everywhere(value: Any) -> Any:
    """What a re-record changes in every response: ids (not a model's), timestamps, obfuscation, fingerprints."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("id", "created", "obfuscation", "system_fingerprint") and value.get("object") != "model":
                out[key] = f"{item}-new" if isinstance(item, str) else (item + 1 if isinstance(item, int) else item)
            else:
                out[key] = _churn_everywhere(item)
        return out
    if isinstance(value, list):
        return [_churn_everywhere(item) for item in value]
    return value


def test_churn_of_every_corpus_recording_is_volatile_only(corpus: Path) -> None:
    seen: set[tuple[str, ...]] = set()
    for path in sorted((corpus / "llama-stack").rglob("*.json")):
        raw = parse_json(path.read_bytes(), path)
        churned = {**raw, "response": _churn_everywhere(raw["response"])}
        facts = derive_facts(str(path), 1, raw)
        changes, _ = compare((raw, facts), (churned, facts), VOLATILITY)
        assert changes in ([], ["volatile"]), (path, changes)
        seen.add(tuple(changes))
    assert seen == {(), ("volatile",)}


def test_rechunking_every_corpus_chat_stream_is_chunking_only(corpus: Path) -> None:
    from diffkit import rechunk

    count = 0
    for path in sorted(corpus.rglob("*.json")):
        raw = parse_json(path.read_bytes(), path)
        body = raw.get("response", {}).get("body") if isinstance(raw, dict) else None
        chunks = body if isinstance(body, list) else []
        if not chunks or not all(
            isinstance(item, dict) and str(item.get("__type__", "")).endswith("ChatCompletionChunk") for item in chunks
        ):
            continue
        new = rechunk(raw)
        if len(new["response"]["body"]) == len(chunks):
            continue
        facts = derive_facts(str(path), 1, raw)
        changes, details = compare((raw, facts), (new, facts), VOLATILITY)
        assert changes == ["chunking"], (path, changes, details)
        count += 1
    assert count > 50


def test_json_of_a_report_keeps_lone_surrogates_as_escapes() -> None:
    from llm_fixtures.diffing.report import Details, FieldChange

    change = FieldChange(path="$.body.messages[0].content", old="hi \ud83d", new="hello")
    report = PairReport(old="a", new="a", status="changed", changes=["request"], details=Details(request=[change]))
    line = report.to_json()
    assert b"\\ud83d" in line
    assert orjson.loads(line.replace(b"\\ud83d", b"")) is not None


def test_human_output_survives_lone_surrogates(capsys: pytest.CaptureFixture[str]) -> None:
    from llm_fixtures.diffing.report import Details
    from llm_fixtures.render.diff import render_human

    change = word_diff("hi \ud83d there", "hi \ud83d\ude00 there")
    report = PairReport(
        old="a", new="a", test_id="t::x\udc80", status="changed", changes=["content"], details=Details(content=change)
    )
    render_human([report], "old", "new", show_all=False)
    out = capsys.readouterr().out
    out.encode("utf-8")
    assert "t::x\ufffd" in out
    assert "[-\ufffd-]{+\U0001f600+}" in out


def test_long_lists_are_summarized_not_listed_item_by_item() -> None:
    old = {"data": [{"embedding": [0.1] * 1536, "index": 0}], "model": "m"}
    new = {"data": [{"embedding": [0.2] * 1500 + [0.1] * 36, "index": 0}], "model": "m"}
    assert [(c.path, c.old, c.new) for c in field_changes(old, new)] == [
        ("$.data[0].embedding", "<1536 items>", "<1536 items, 1500 differ>")
    ]
    short = field_changes({"x": [1, 2, 3]}, {"x": [1, 5, 3, 4]})
    assert [(c.path, c.old, c.new) for c in short] == [("$.x[1]", 2, 5), ("$.x[3]", None, 4)]


def test_ids_inside_sse_lines_are_volatile(corpus: Path) -> None:
    suite = corpus / "llama-stack" / "tests" / "integration"
    for path in [
        suite / "messages/recordings/93eb42f3bd69f005727cc3a161e7ab0a8b2c99e4665d9eae5553fe9019ba7b32.json",
        suite / "interactions/recordings/72df7be9f414b6d04d00f666847edcac8c98baf7e5c79137285c12d0ae85b809.json",
    ]:
        raw = parse_json(path.read_bytes(), path)
        lines = raw["response"]["body"]
        churned = copy.deepcopy(raw)
        churned["response"]["body"] = [
            "data: " + orjson.dumps(_churn_everywhere(orjson.loads(line[6:]))).decode()
            if line.startswith("data: {")
            else line
            for line in lines
        ]
        facts = derive_facts(str(path), 1, raw)
        assert compare((raw, facts), (churned, facts), VOLATILITY)[0] == ["volatile"], path


@pytest.mark.parametrize(
    ("table", "plain"),
    [
        ({}, True),
        ({"roots": ["recordings"]}, True),
        ({"volatile": ["x_trace"], "diff": {"volatile": ["seed", "response.body.*.__data__.seed"]}}, True),
        ({"diff": {}}, True),
        ({"check": {}}, False),
        ({"diff": {"volatile": ["a", 1]}}, False),
        ({"roots": "recordings"}, False),
        ({"diff": {"volatile": [], "extra": 1}}, False),
        ({"volatile": "x"}, False),
    ],
)
def test_plain_tables_give_the_volatility_the_settings_give(table: dict[str, Any], plain: bool) -> None:
    from llm_fixtures.config import Project
    from llm_fixtures.diffing.sides import _plain_volatile

    light = _plain_volatile(table)
    assert (light is not None) == plain
    if light is not None:
        settings = Project(root=Path.cwd(), table=table).settings
        assert light == [*settings.volatile, *settings.diff.volatile]


# ------------------------------------------------------------------------------------- the classes of issue 12


def _details(old: dict[str, Any], new: dict[str, Any], **kwargs: Any) -> tuple[list[str], Any]:
    sides = [
        (raw, derive_facts(name, 1, raw))
        for raw, name in ((old, kwargs.pop("old_name", "x.json")), (new, kwargs.pop("new_name", "x.json")))
    ]
    changes, details = compare(sides[0], sides[1], VOLATILITY, **kwargs)
    return list(changes), details


def test_a_changed_stored_type_is_its_own_class() -> None:
    def retype(raw: dict[str, Any]) -> None:
        for item in raw["response"]["body"]:
            item["__type__"] = "ogx_api.chat.ChatCompletionChunk"

    changes, details = _details(BASE, edited(retype))
    assert changes == ["type"]
    assert (details.type.old, details.type.new) == (
        "openai.types.chat.chat_completion_chunk.ChatCompletionChunk",
        "ogx_api.chat.ChatCompletionChunk",
    )


def test_a_streaming_flip_is_its_own_class() -> None:
    changes, details = _details(BASE, edited(lambda raw: raw["response"].update(is_streaming=False)))
    assert "streaming" in changes
    assert (details.streaming.old, details.streaming.new) == (True, False)


def responses_recording(summary: str, text: str = "The answer is 4.") -> dict[str, Any]:
    response = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "o4-mini",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": summary}]},
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            },
        ],
        "usage": {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8},
    }
    raw = recording([], question="2+2?")
    raw["request"].update(endpoint="/v1/responses", url="https://api.openai.com/v1/v1/responses")
    raw["request"]["body"] = {"model": "o4-mini", "input": "2+2?", "stream": False}
    raw["response"] = {"body": {"__type__": "openai.types.responses.response.Response", "__data__": response}}
    return raw


def test_a_responses_recording_whose_only_change_is_its_reasoning_summary() -> None:
    changes, details = _details(responses_recording("Adding two and two."), responses_recording("Two plus two."))
    assert changes == ["reasoning"]
    assert ("-", "Adding") in details.reasoning.ops and ("+", "plus") in details.reasoning.ops


def test_a_dropped_service_tier_is_metadata_not_content() -> None:
    changes, details = _details(
        BASE, edited(lambda raw: [_data(raw, i).update(service_tier="default") for i in range(4)])
    )
    assert changes == ["metadata"]
    assert [(c.path, c.new) for c in details.metadata] == [("$.service_tier", "default")]


def model_list(*names: str) -> dict[str, Any]:
    models = [{"name": name, "model": name, "size": 1, "expires_at": "2026-01-01"} for name in names]
    return {
        "test_id": None,
        "request": {
            "method": "GET",
            "url": "http://0.0.0.0:11434/api/ps",
            "headers": {},
            "body": {},
            "endpoint": "/api/ps",
            "model": "",
        },
        "response": {
            "body": {"__type__": "ollama._types.ProcessResponse", "__data__": {"models": models}},
            "is_streaming": False,
        },
    }


def test_model_listings_change_as_models() -> None:
    changes, details = _details(model_list("llama3.2:3b"), model_list("llama3.2:3b", "all-minilm:l6-v2"))
    assert changes == ["models"]
    assert [c.path for c in details.models] == ['$["all-minilm:l6-v2"]']
    # the load times churn: volatile, not a change of the listing
    churned = model_list("llama3.2:3b")
    churned["response"]["body"]["__data__"]["models"][0]["expires_at"] = "2027-01-01"
    assert _details(model_list("llama3.2:3b"), churned)[0] == ["volatile"]


def test_a_rename_to_a_name_replay_cannot_find_is_a_name_change() -> None:
    from llm_fixtures.hashing import request_key_name

    good = request_key_name(BASE)
    assert good is not None
    changes, details = _details(BASE, BASE, old_name=good, new_name="0" * 64 + ".json", paired_by="moved")
    assert changes == ["name"]
    assert (details.name.old, details.name.new, details.name.expected) == (good, "0" * 64 + ".json", good)
    # renamed to what the recorder computes: found, no change
    assert _details(BASE, BASE, old_name=good, new_name=good, paired_by="moved")[0] == []
    # an edit of the request that leaves the name behind: replay no longer finds it
    edited_request = edited(lambda raw: raw["request"]["body"]["messages"][0].update(content="hello"))
    assert _details(BASE, edited_request, old_name=good, new_name=good)[0] == ["name", "request"]
    # two files compared whatever their names: no claim
    assert _details(BASE, BASE, old_name=good, new_name="copy.json", check_names=False)[0] == []


def test_a_moved_pair_reports_its_test_id_as_the_move() -> None:
    moved = edited(lambda raw: raw.update(test_id="suite/test_y.py::test_y"))
    changes, details = _details(BASE, moved, paired_by="moved")
    assert changes == []
    assert (details.moved.old, details.moved.new) == ("t.py::t", "suite/test_y.py::test_y")
    assert _details(BASE, moved)[0] == ["request"]  # paired otherwise, the test id is part of the request


def test_shortened_values_keep_the_span_that_differs() -> None:
    from llm_fixtures.render.diff import _short_pair

    prefix = "tests/integration/inference/test_openai_embeddings.py::test_openai_embeddings_single_string["
    tail = "-emb=sentence-transformers/nomic-ai/nomic-embed-text-v1.5]"
    old, new = _short_pair(prefix + "llama_stack_client" + tail, prefix + "ogx_client" + tail)
    assert old != new
    assert "llama_stack_client" in old and "ogx_client" in new
    assert len(old) <= 90 and len(new) <= 90
    assert _short_pair("a", "b") == ('"a"', '"b"')
    long_old, long_new = _short_pair("x" * 200 + "A" * 300, "x" * 200 + "B" * 300)
    assert "A" in long_old and "B" in long_new and len(long_old) <= 90
