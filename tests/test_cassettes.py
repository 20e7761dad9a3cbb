"""The cassettes package on synthetic cassettes: every serializer, body encoding and stream dialect, hostile files,
secrets and the in-place scrubber."""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

import brotli
import pytest
import yaml
from vcr.serializers import jsonserializer, yamlserializer

from llm_fixtures.cassettes.answers import fold_interaction
from llm_fixtures.cassettes.bodies import MAX_BODY, decode
from llm_fixtures.cassettes.describing import describe_cassette, describe_interactions
from llm_fixtures.cassettes.leaks import TextLines
from llm_fixtures.cassettes.linting import check_cassette_bytes
from llm_fixtures.cassettes.loading import load_document
from llm_fixtures.cassettes.model import Body
from llm_fixtures.cassettes.naming import name_of_path, node_id_of_path
from llm_fixtures.cassettes.reading import parse_cassette
from llm_fixtures.cassettes.scrubbing import MASK, scrub
from llm_fixtures.checking import CheckOptions
from llm_fixtures.checking.secrets import MAX_LISTED, Allowlist
from llm_fixtures.errors import BadRecording

OPENAI_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
ANTHROPIC_KEY = "sk-ant-api03-" + "Zy9Xw8Vu7Ts6Rq5Po4Nm" * 2


def interaction(
    uri: str = "https://api.openai.com/v1/chat/completions",
    request_body: Any = None,
    response_body: str | bytes = '{"object": "chat.completion", "choices": []}',
    *,
    status: int = 200,
    request_headers: dict[str, list[str]] | None = None,
    response_headers: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """One interaction as vcrpy's `serialize` hands it to a serializer."""
    if request_body is None:
        request_body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    return {
        "request": {
            "body": request_body,
            "headers": request_headers or {"Content-Type": ["application/json"]},
            "method": "POST",
            "uri": uri,
        },
        "response": {
            "body": {"string": response_body},
            "headers": response_headers or {"Content-Type": ["application/json"]},
            "status": {"code": status, "message": "OK"},
        },
    }


def yaml_cassette(*interactions: dict[str, Any]) -> bytes:
    """A cassette as vcrpy's own YAML serializer writes it."""
    return str(yamlserializer.serialize({"version": 1, "interactions": list(interactions)})).encode()


def json_cassette(*interactions: dict[str, Any]) -> bytes:
    return str(jsonserializer.serialize({"version": 1, "interactions": list(interactions)})).encode()


def chat_sse(*pieces: str, usage: bool = True) -> str:
    events: list[dict[str, Any]] = [
        {
            "object": "chat.completion.chunk",
            "id": "c1",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        }
    ]
    events += [
        {
            "object": "chat.completion.chunk",
            "id": "c1",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
        }
        for piece in pieces
    ]
    events.append(
        {
            "object": "chat.completion.chunk",
            "id": "c1",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
    )
    if usage:
        events.append(
            {
                "object": "chat.completion.chunk",
                "id": "c1",
                "model": "gpt-4o",
                "choices": [],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            }
        )
    return "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"


SSE_HEADERS = {"Content-Type": ["text/event-stream; charset=utf-8"]}


def content_of(result: dict[str, Any]) -> Any:
    return result["choices"][0]["message"]["content"]


# --- reading -------------------------------------------------------------------------------------------------


def test_plain_yaml_cassette_reads_as_vcrpy_wrote_it() -> None:
    cassette = parse_cassette(yaml_cassette(interaction(), interaction(status=429)), "c.yaml")
    assert (cassette.format, cassette.style, cassette.version, cassette.count) == ("vcr", "yaml", 1, 2)
    first = cassette.interactions[0]
    assert first.request.method == "POST"
    assert first.request.uri == "https://api.openai.com/v1/chat/completions"
    assert first.response.status == 200
    assert cassette.interactions[1].response.status == 429


def test_json_serializer_cassette_reads_the_same_as_yaml() -> None:
    from_yaml = parse_cassette(yaml_cassette(interaction()), "c.yaml")
    from_json = parse_cassette(json_cassette(interaction()), "c.json")
    assert from_json.style == "json"
    assert from_json.interactions == from_yaml.interactions


def test_gzipped_cassette_reads_and_says_so() -> None:
    cassette = parse_cassette(gzip.compress(yaml_cassette(interaction())), "c.yaml.gz")
    assert cassette.compressed
    assert cassette.count == 1


def test_pydantic_ai_parsed_body_is_read_as_the_json_body() -> None:
    text = """interactions:
- request:
    headers:
      content-type:
      - application/json
    method: POST
    parsed_body:
      model: claude-sonnet-4-5
      messages:
      - content: hi
        role: user
    uri: https://api.anthropic.com/v1/messages
  response:
    headers:
      content-type:
      - application/json
    parsed_body:
      type: message
      role: assistant
      model: claude-sonnet-4-5
      content:
      - type: text
        text: Hello!
      stop_reason: end_turn
    status:
      code: 200
      message: OK
version: 1
"""
    cassette = parse_cassette(text.encode(), "c.yaml")
    assert cassette.style == "parsed-body"
    row = describe_interactions(cassette)[0]
    assert (row.model, row.provider, row.endpoint) == ("claude-sonnet-4-5", "anthropic", "/v1/messages")
    # Its sizes are those of the JSON the trees hold (what `ls --group-by` adds up).
    request = cassette.interactions[0].request.body.parsed
    assert row.request_bytes == len(json.dumps(request, separators=(",", ":")).encode())
    assert row.response_bytes > 100
    kind, result, _warnings = fold_interaction(cassette.interactions[0])
    assert kind == "anthropic"
    assert result["message"]["content"][0]["text"] == "Hello!"


def test_an_answer_of_objects_whose_type_is_a_list_assembles_without_a_crash() -> None:
    """A JSON list of objects whose `type` is a list (a model catalogue: `type: [text-to-score]`) is no stream any
    dialect knows: the assembler says so, never raises (an unhashable `type` met a set lookup)."""
    text = """interactions:
- request: {method: GET, uri: 'https://models.example.test/v1/models', body: '', headers: {}}
  response:
    status: {code: 200, message: OK}
    headers: {content-type: [application/json]}
    parsed_body:
    - {model_id: rerank-1, type: [text-to-score]}
    - {model_id: chat-2, type: {kind: chat}}
version: 1
"""
    cassette = parse_cassette(text.encode(), "c.yaml")
    kind, result, warnings = fold_interaction(cassette.interactions[0])
    assert isinstance(result, dict) and isinstance(warnings, list)
    assert kind


def test_websocket_cassette_lists_its_messages() -> None:
    text = """version: 1
interactions:
- kind: message
  direction: sent
  data:
    setup:
      model: models/gemini-live
- kind: message
  direction: received
  data:
    setupComplete: {}
- kind: close
  code: 1011
  reason: internal
  ok: false
"""
    cassette = parse_cassette(text.encode(), "c.yaml")
    assert cassette.format == "websocket"
    assert [message.direction for message in cassette.messages] == ["sent", "received", None]
    rows = describe_interactions(cassette)
    assert [row.endpoint for row in rows] == ["setup", "setupComplete", "close 1011"]
    facts = describe_cassette(cassette, len(text))
    assert (facts.interactions, facts.model, facts.error) == (3, "gemini-live", True)


def test_grpc_samples_and_streams_are_read_as_request_and_answer_json() -> None:
    text = """version: 1
interactions:
- request_sample:
    json: {model: grok-4, messages: [{content: [{text: hi}], role: ROLE_USER}]}
    raw: !!binary Cg==
  response_sample:
    json: {id: a, outputs: []}
- request_stream:
    json: {model: grok-4-fast, messages: []}
    raw: !!binary Cg==
  response_stream:
    chunks_json:
    - chunk: {id: b}
    - chunk: {id: b}
    chunks_raw: [!!binary Cg==]
"""
    cassette = parse_cassette(text.encode(), "c.xai.yaml")
    assert (cassette.format, cassette.problems) == ("grpc", [])
    assert [i.request.body.parsed["model"] for i in cassette.interactions] == ["grok-4", "grok-4-fast"]
    assert cassette.interactions[1].response.body.parsed == [{"chunk": {"id": "b"}}, {"chunk": {"id": "b"}}]
    assert [row.model for row in describe_interactions(cassette)] == ["grok-4", "grok-4-fast"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b"interactions: [\n", "invalid YAML"),
        (b"just: a mapping\n", "not a cassette: no `interactions`"),
        (b"- 1\n- 2\n", "not a cassette"),
        (b"interactions: 3\n", "not a list"),
        (b"\x00\x01\x02binary", "binary file"),
        (b"interactions: \xc3\x28\n", "not UTF-8"),
        (b"interactions: !!python/object/apply:os.system ['true']\n", "not plain data; refused"),
        (b"interactions: !!python/name:os.system\n", "not plain data; refused"),
        (b"a: " + b"[" * 5000 + b"]" * 5000, "invalid YAML"),
        (b"\x1f\x8b\x08\x00broken", "gzip"),
    ],
)
def test_bad_files_are_one_line_reasons(text: bytes, reason: str) -> None:
    with pytest.raises(BadRecording) as caught:
        parse_cassette(text, "bad.yaml")
    assert reason in str(caught.value)
    assert str(caught.value).startswith("bad.yaml: ")
    assert "\n" not in str(caught.value)


def test_alias_bomb_is_refused_before_anything_walks_it() -> None:
    lines = ['a0: &a0 ["' + "x" * 64 + '"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines.append("interactions: [*a8]")
    with pytest.raises(BadRecording, match="alias"):
        parse_cassette("\n".join(lines).encode(), "bomb.yaml")


def test_harmless_anchors_still_read() -> None:
    text = b"common: &h {Content-Type: [application/json]}\ninteractions: []\nother: *h\n"
    assert parse_cassette(text, "c.yaml").count == 0


def test_gzip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_fixtures.cassettes import loading

    monkeypatch.setattr(loading, "MAX_INFLATED", 1024 * 1024)
    bomb = gzip.compress(b"interactions: []\n" + b" " * (8 * 1024 * 1024))
    with pytest.raises(BadRecording, match="larger than"):
        parse_cassette(bomb, "c.yaml.gz")


def test_old_vcrpy_python_tags_are_read_as_plain_data() -> None:
    text = b"""interactions:
- request:
    body: !!python/object/new:_io.BytesIO
      state: !!python/tuple [!!binary "aGVsbG8=", 0, null]
    headers: {}
    method: !!python/unicode 'POST'
    uri: !!python/str 'http://localhost/x'
  response:
    body: {string: !!python/unicode 'ok'}
    headers: {}
    status: {code: 200, message: OK}
"""
    cassette = parse_cassette(text, "old.yaml")
    request = cassette.interactions[0].request
    assert (request.method, request.uri, request.body.raw) == ("POST", "http://localhost/x", b"hello")


def test_a_broken_interaction_is_a_problem_and_the_rest_reads() -> None:
    tree = {"version": 1, "interactions": [interaction(), 42, {"request": {}}]}
    cassette = parse_cassette(yaml.safe_dump(tree).encode(), "c.yaml")
    assert cassette.count == 1
    assert cassette.problems == [
        "interaction 1: a int, not a mapping; skipped",
        "interaction 2: no response mapping; skipped",
    ]


# --- bodies ----------------------------------------------------------------------------------------------------

ANSWER = {
    "object": "chat.completion",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Bonjour"}, "finish_reason": "stop"}],
}


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
    ],
)
def test_compressed_binary_bodies_decode_per_content_encoding(encoding: str, encode: Any) -> None:
    body = encode(json.dumps(ANSWER).encode())
    headers = {"Content-Type": ["application/json"], "Content-Encoding": [encoding]}
    data = yaml_cassette(interaction(response_body=body, response_headers=headers))
    assert b"!!binary" in data
    cassette = parse_cassette(data, "c.yaml")
    decoded = decode(cassette.interactions[0].response.body, cassette.interactions[0].response.headers)
    assert decoded.kind == "json"
    assert decoded.json == ANSWER
    _kind, result, warnings = fold_interaction(cassette.interactions[0])
    assert content_of(result) == "Bonjour"
    assert warnings == []


def test_unknown_encoding_and_broken_gzip_are_notes_not_crashes() -> None:
    zstd = decode(Body(raw=b"\x28\xb5\x2f\xfd junk"), {"Content-Encoding": ["zstd"]})
    assert zstd.kind == "binary"
    assert zstd.notes == ["zstd-encoded body: not decoded"]
    broken = decode(Body(raw=b"\x1f\x8b\x08\x00 not gzip"), {"Content-Encoding": ["gzip"]})
    assert broken.notes[0].startswith("broken gzip body")


def test_body_decompression_bomb_stops_at_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from llm_fixtures.cassettes import bodies

    monkeypatch.setattr(bodies, "MAX_BODY", 1024)
    bomb = gzip.compress(b"{" + b" " * (MAX_BODY // 64))
    decoded = decode(Body(raw=bomb), {"Content-Encoding": ["gzip"]})
    assert decoded.notes == ["gzip body inflates past 0 MiB: not decoded"]


def test_charset_from_content_type() -> None:
    decoded = decode(Body(raw="café".encode("latin-1")), {"Content-Type": ["text/plain; charset=iso-8859-1"]})
    assert (decoded.kind, decoded.text) == ("text", "café")


# --- stream dialects -------------------------------------------------------------------------------------------


def sse(events: list[tuple[str, dict[str, Any]]]) -> str:
    return "".join((f"event: {name}\n" if name else "") + f"data: {json.dumps(data)}\n\n" for name, data in events)


ANTHROPIC_SSE = sse(
    [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "m",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude",
                    "content": [],
                    "usage": {},
                },
            },
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
)
RESPONSES_SSE = sse(
    [
        (
            "response.created",
            {
                "type": "response.created",
                "response": {"id": "r", "object": "response", "status": "in_progress", "output": []},
            },
        ),
        (
            "response.output_text.delta",
            {
                "type": "response.output_text.delta",
                "item_id": "i",
                "output_index": 0,
                "content_index": 0,
                "delta": "Hel",
            },
        ),
        (
            "response.output_text.delta",
            {
                "type": "response.output_text.delta",
                "item_id": "i",
                "output_index": 0,
                "content_index": 0,
                "delta": "lo",
            },
        ),
        (
            "response.completed",
            {
                "type": "response.completed",
                "response": {
                    "id": "r",
                    "object": "response",
                    "status": "completed",
                    "output": [
                        {
                            "type": "message",
                            "id": "i",
                            "role": "assistant",
                            "content": [{"type": "output_text", "text": "Hello"}],
                        }
                    ],
                },
            },
        ),
    ]
)
GEMINI_CHUNKS: list[dict[str, Any]] = [
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}], "modelVersion": "gemini"},
    {"candidates": [{"content": {"role": "model", "parts": [{"text": "lo"}]}, "finishReason": "STOP", "index": 0}]},
]
OLLAMA_LINES = [
    {"model": "llama3", "message": {"role": "assistant", "content": "Hel"}, "done": False},
    {"model": "llama3", "message": {"role": "assistant", "content": "lo"}, "done": True, "done_reason": "stop"},
]


def _text_of(kind: str, result: dict[str, Any]) -> str:
    if kind == "anthropic":
        return "".join(block.get("text", "") for block in result["message"]["content"])
    if kind == "responses":
        return "".join(part["text"] for item in result["output"] for part in item.get("content", []))
    if kind == "gemini":
        return "".join(part.get("text", "") for part in result["candidates"][0]["content"]["parts"])
    if kind.startswith("ollama"):
        return str(result["message"]["content"])
    return str(content_of(result))


@pytest.mark.parametrize(
    ("body", "headers", "kind"),
    [
        (chat_sse("Hel", "lo"), SSE_HEADERS, "chat.completion.chunk"),
        (chat_sse("Hel", "lo").replace("\n", "\r\n"), SSE_HEADERS, "chat.completion.chunk"),
        (ANTHROPIC_SSE, SSE_HEADERS, "anthropic"),
        (RESPONSES_SSE, SSE_HEADERS, "responses"),
        (sse([("", chunk) for chunk in GEMINI_CHUNKS]), SSE_HEADERS, "gemini"),
        (json.dumps(GEMINI_CHUNKS), {"Content-Type": ["application/json"]}, "gemini"),
        (
            "\n".join(json.dumps(line) for line in OLLAMA_LINES),
            {"Content-Type": ["application/x-ndjson"]},
            "ollama.chat",
        ),
        ("\n".join(json.dumps(line) for line in OLLAMA_LINES), {"Content-Type": ["application/json"]}, "ollama.chat"),
        (
            gzip.compress(chat_sse("Hel", "lo").encode()),
            {**SSE_HEADERS, "Content-Encoding": ["gzip"]},
            "chat.completion.chunk",
        ),
    ],
)
def test_every_stream_dialect_assembles_through_the_recordings_assembler(body: Any, headers: Any, kind: str) -> None:
    data = yaml_cassette(interaction(response_body=body, response_headers=headers))
    cassette = parse_cassette(data, "c.yaml")
    got_kind, result, warnings = fold_interaction(cassette.interactions[0])
    assert got_kind == kind
    assert _text_of(kind, result) == "Hello"
    row = describe_interactions(cassette)[0]
    assert row.streaming or (kind == "gemini" and isinstance(body, str) and body.startswith("["))
    assert not [warning for warning in warnings if "not" in warning and "finish" not in warning]


def test_chunks_count_data_events_without_done() -> None:
    cassette = parse_cassette(
        yaml_cassette(interaction(response_body=chat_sse("a", "b", "c"), response_headers=SSE_HEADERS)), "c.yaml"
    )
    assert describe_interactions(cassette)[0].chunks == 6


def test_each_interaction_assembles_on_its_own() -> None:
    cassette = parse_cassette(
        yaml_cassette(
            interaction(response_body=json.dumps(ANSWER)),
            interaction(response_body=chat_sse("Hel", "lo"), response_headers=SSE_HEADERS),
        ),
        "tests/cassettes/test_x/test_y.yaml",
    )
    objects = [
        {"path": cassette.path, "interaction": item.index, **fold_interaction(item)[1]}
        for item in cassette.interactions
    ]
    assert [(item["path"], item["interaction"], item["kind"]) for item in objects] == [
        ("tests/cassettes/test_x/test_y.yaml", 0, "chat.completion.chunk"),
        ("tests/cassettes/test_x/test_y.yaml", 1, "chat.completion.chunk"),
    ]
    assert [content_of(item) for item in objects] == ["Bonjour", "Hello"]
    assert objects[1]["n_items"] == 5  # the role chunk, two pieces, the finish and the usage chunk


# --- facts -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "body", "endpoint", "model", "provider"),
    [
        (
            "https://api.openai.com/v1/chat/completions",
            '{"model": "gpt-4o"}',
            "/v1/chat/completions",
            "gpt-4o",
            "openai",
        ),
        (
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent?key=x",
            "{}",
            "/v1beta/models/gemini-2.0-flash:generateContent",
            "gemini-2.0-flash",
            "gemini",
        ),
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-v2%3A1/invoke",
            "{}",
            "/model/anthropic.claude-v2%3A1/invoke",
            "anthropic.claude-v2:1",
            "bedrock",
        ),
        ("http://localhost:11434/api/chat", '{"model": "llama3"}', "/api/chat", "llama3", "ollama"),
    ],
)
def test_facts_from_uri_and_body(uri: str, body: str, endpoint: str, model: str, provider: str) -> None:
    cassette = parse_cassette(yaml_cassette(interaction(uri=uri, request_body=body)), "c.yaml")
    row = describe_interactions(cassette)[0]
    assert (row.endpoint, row.model, row.provider) == (endpoint, model, provider)


@pytest.mark.parametrize(
    ("path", "test_id", "function"),
    [
        ("pkg/tests/cassettes/test_mod/test_one.yaml", "pkg/tests/test_mod.py::test_one", "test_one"),
        ("tests/cassettes/test_mod/TestA.test_b[x-1].yaml", "tests/test_mod.py::TestA::test_b[x-1]", "test_b"),
        ("tests/cassettes/test_m/test_c[xai].xai.yaml", "tests/test_m.py::test_c[xai]", "test_c"),
        ("tests/cassettes/test_m/test_d[a.b].yaml", "tests/test_m.py::test_d[a.b]", "test_d"),
        ("tests/cassettes/TestA.test_b.yaml", None, "test_b"),
        ("tests/cassettes/events/test_e.yaml", None, "test_e"),
    ],
)
def test_cassette_names_to_tests(path: str, test_id: str | None, function: str) -> None:
    assert node_id_of_path(path) == test_id
    name = name_of_path(path)
    assert name is not None
    assert name.function == function


# --- check and scrub -------------------------------------------------------------------------------------------


def planted(**headers: list[str]) -> bytes:
    return yaml_cassette(
        interaction(request_headers={"Content-Type": ["application/json"], **headers}),
        interaction(
            uri=f"https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key=AIza{'Q' * 35}"
        ),
    )


def test_check_finds_a_planted_header_key_masked() -> None:
    findings = check_cassette_bytes(planted(**{"x-api-key": [ANTHROPIC_KEY]}), "c.yaml")
    secrets = [finding for finding in findings if finding.check == "secrets"]
    assert [(finding.status, finding.details["where"]) for finding in secrets] == [
        ("auth-header", "request header x-api-key"),
        ("query-key", "query parameter key"),
    ]
    for finding in secrets:
        assert ANTHROPIC_KEY not in finding.message
        assert "AIza" + "Q" * 35 not in finding.message
    assert "sk-a…" in secrets[0].message


def _keys(count: int) -> list[str]:
    return [f"sk-proj-{number:030d}" for number in range(count)]


def _token_cassette(keys: list[str], prompt: Callable[[str], str]) -> bytes:
    """A cassette of one interaction per key: the key in its Authorization header, `prompt(key)` in its body."""
    return yaml_cassette(
        *(
            interaction(
                request_headers={"Authorization": [f"Bearer {key}"]},
                request_body=json.dumps({"messages": [{"role": "user", "content": prompt(key)}]}),
            )
            for key in keys
        )
    )


def test_each_key_of_many_interactions_is_named_once_on_its_first_line() -> None:
    # A key sent in a header and echoed in the body is the header's finding only; each distinct key once.
    keys = _keys(300)
    data = _token_cassette(keys, lambda key: f"my key is {key}")
    findings = [finding for finding in check_cassette_bytes(data, "c.yaml") if finding.check == "secrets"]
    # The first hundred named, the rest counted, as for a recording
    assert [finding.status for finding in findings] == ["auth-header"] * MAX_LISTED + ["unlisted"]
    assert findings[-1].details["count"] == len(keys) - MAX_LISTED
    text = data.decode()
    assert [finding.details["line"] for finding in findings[:MAX_LISTED]] == [
        text[: text.index(key)].count("\n") + 1
        for key in keys[:MAX_LISTED]  # where each is first
    ]


def test_thousands_of_distinct_header_tokens_are_each_found_once_in_one_read() -> None:
    """A cassette that sends a new token in every interaction (20,000 of them): each token's line is found from
    where the last one was (7 s when each was searched from the top); an echo of an earlier token later in the
    file does not move it."""
    keys = _keys(20_000)
    data = _token_cassette(keys, lambda _key: f"again {keys[0]}")
    lines = TextLines(data)
    text = data.decode()
    start = time.process_time()
    found = [lines.of_value(key) for key in keys]
    assert time.process_time() - start < 2
    assert found == [text[: text.index(key)].count("\n") + 1 for key in keys]
    assert lines.of_value("sk-proj-not-in-the-file") == 0


def test_allow_secrets_is_respected() -> None:
    data = planted(Authorization=[f"Bearer {OPENAI_KEY}"])
    options = CheckOptions(allow_secrets=("sk-proj-", "AIza"))
    assert [finding for finding in check_cassette_bytes(data, "c.yaml", options) if finding.check == "secrets"] == []


def test_placeholders_are_not_secrets() -> None:
    data = planted(Authorization=["Bearer REDACTED"], Cookie=["COOKIE-XXX"])
    statuses = [finding.status for finding in check_cassette_bytes(data, "c.yaml") if finding.check == "secrets"]
    assert statuses == ["query-key"]


def test_secret_inside_a_gzip_body_is_found() -> None:
    body = gzip.compress(json.dumps({"leaked": OPENAI_KEY}).encode())
    data = yaml_cassette(interaction(response_body=body, response_headers={"Content-Encoding": ["gzip"]}))
    findings = [finding for finding in check_cassette_bytes(data, "c.yaml") if finding.check == "secrets"]
    assert [(finding.status, finding.details["where"], finding.details["line"]) for finding in findings] == [
        ("openai-key", "response body (gzip)", 0)
    ]


def test_check_reports_empty_cassettes_error_statuses_and_duplicates() -> None:
    assert [f.status for f in check_cassette_bytes(b"interactions: []\nversion: 1\n", "c.yaml")] == ["empty-cassette"]
    data = yaml_cassette(interaction(), interaction(), interaction(status=500))
    statuses = sorted(finding.status for finding in check_cassette_bytes(data, "c.yaml"))
    assert statuses == ["duplicate-interaction", "error-status"]


def test_check_reports_large_inline_images() -> None:
    image = "data:image/png;base64," + "A" * 400_000
    body = json.dumps(
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image}}]}],
        }
    )
    findings = check_cassette_bytes(yaml_cassette(interaction(request_body=body)), "c.yaml")
    assert [finding.status for finding in findings] == ["large-image"]
    assert findings[0].details["interaction"] == 0


def changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    old, new = before.decode().splitlines(), after.decode().splitlines()
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_scrub_masks_a_planted_key_and_changes_nothing_else() -> None:
    data = planted(**{"x-api-key": [ANTHROPIC_KEY]})
    result = scrub(data, "c.yaml")
    assert result.after is not None
    assert [(a.strip(), b.strip()) for a, b in changed_lines(data, result.after)] == [
        (f"- {ANTHROPIC_KEY}", f"- {MASK}"),
        (
            f"uri: https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key=AIza{'Q' * 35}",
            f"uri: https://generativelanguage.googleapis.com/v1beta/models/g:generateContent?key={MASK}",
        ),
    ]
    assert [finding for finding in check_cassette_bytes(result.after, "c.yaml") if finding.check == "secrets"] == []
    assert scrub(result.after, "c.yaml").after is None  # idempotent


def test_scrub_keeps_the_auth_scheme_and_respects_allow_secrets() -> None:
    data = planted(Authorization=[f"Bearer {OPENAI_KEY}"])
    result = scrub(data, "c.yaml", Allowlist(("AIza",)))
    assert result.after is not None
    assert [b.strip() for _a, b in changed_lines(data, result.after)] == [f"- Bearer {MASK}"]


def test_scrub_drops_credential_headers_by_whole_lines() -> None:
    data = planted(Cookie=["session=" + "s3cr3t" * 5], Authorization=[f"Bearer {OPENAI_KEY}"])
    result = scrub(data, "c.yaml", Allowlist(("AIza",)), drop=frozenset({"cookie", "authorization"}))
    assert result.after is not None
    assert result.dropped == ["interaction 0 request header Authorization", "interaction 0 request header Cookie"]
    before, after = data.decode().splitlines(), result.after.decode().splitlines()
    assert [line for line in before if line not in after] == [
        "      Authorization:",
        f"      - Bearer {OPENAI_KEY}",
        "      Cookie:",
        f"      - session={'s3cr3t' * 5}",
    ]
    assert [line for line in after if line not in before] == []


def test_scrub_of_json_and_gzip_cassettes() -> None:
    data = json_cassette(interaction(request_headers={"authorization": [f"Bearer {OPENAI_KEY}"]}))
    result = scrub(data, "c.json")
    assert result.after is not None
    assert result.after == data.replace(OPENAI_KEY.encode(), MASK.encode())
    zipped = scrub(gzip.compress(yaml_cassette(interaction(request_headers={"api-key": [OPENAI_KEY]}))), "c.yaml.gz")
    assert zipped.after is not None
    assert OPENAI_KEY.encode() not in gzip.decompress(zipped.after)


def test_scrub_refuses_a_secret_it_cannot_edit_verbatim() -> None:
    # an escaped character inside the key: the text never holds the key as it reads
    escaped = OPENAI_KEY[:10] + "\\x41" + OPENAI_KEY[11:]
    text = (
        yaml_cassette(interaction())
        .decode()
        .replace(
            "Content-Type:\n      - application/json\n    method",
            f'authorization:\n      - "Bearer {escaped}"\n    method',
            1,
        )
    )
    result = scrub(text.encode(), "c.yaml")
    assert result.after is None
    assert result.refused is not None and "verbatim" in result.refused


def test_load_document_tells_the_serializer() -> None:
    assert load_document(json_cassette(interaction()), "c.json")[2] == "json"
    assert load_document(b"{interactions: []}", "c.yaml")[2] == "yaml"
    assert yaml.safe_load(yaml_cassette(interaction()))["version"] == 1


def test_a_gzip_bomb_is_refused_by_its_trailer_or_at_the_limit() -> None:
    from llm_fixtures.cassettes.loading import inflate

    content = b"interactions: []\n" + b"#" * 5000
    packed = gzip.compress(content)
    assert inflate(packed, "c.yaml.gz", limit=10_000) == content
    # The trailer says 5,017 bytes: refused before inflating.
    with pytest.raises(BadRecording, match="larger than"):
        inflate(packed, "c.yaml.gz", limit=4_000)
    # A trailer that lies (says 1 byte) is stopped at the limit while inflating.
    lying = packed[:-4] + (1).to_bytes(4, "little")
    with pytest.raises(BadRecording, match="larger than"):
        inflate(lying, "c.yaml.gz", limit=4_000)
    # Several members: the content is their concatenation.
    assert inflate(packed + gzip.compress(b"more"), "c.yaml.gz", limit=10_000) == content + b"more"
