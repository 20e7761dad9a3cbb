"""`fixtures show` and `--assemble`: the command contract (exit codes, stdout vs stderr, JSON shapes)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llm_fixtures.app import app

HASH = "abcdef12" + "0" * 56
STREAM_HASH = "fedcba98" + "0" * 56
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"\x00" * (34 * 1024 - 4)).decode()
CHUNK = "openai.types.chat.chat_completion_chunk.ChatCompletionChunk"
TEST_ID = "tests/integration/x/test_a.py::test_tools[p1]"


def _chunk(delta: dict[str, Any], finish: str | None = None, **top: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    data = {"id": "rec-1", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [choice]}
    data.update(top)
    return {"__type__": CHUNK, "__data__": data}


def _call(index: int, call_id: str | None, name: str | None, args: str) -> dict[str, Any]:
    return {
        "index": index,
        "id": call_id,
        "type": "function" if call_id else None,
        "function": {"name": name, "arguments": args},
    }


REQUEST = {
    "method": "POST",
    "url": "http://localhost:11434/v1/chat/completions",
    "headers": {},
    "body": {
        "model": "m",
        "stream": True,
        "temperature": 0.5,
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
        "messages": [
            {"role": "system", "content": "Be brief. [bold]not markup[/bold]"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is here?"},
                    {"type": "image_url", "image_url": {"url": PNG}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"c":1}'}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_0", "content": "sunny"},
        ],
    },
    "endpoint": "/v1/chat/completions",
    "model": "m",
}
STREAM = [
    _chunk({"role": "assistant", "content": "Let me check."}),
    _chunk({"tool_calls": [_call(0, "call_1", "get_weather", '{"city":')]}),
    _chunk({"tool_calls": [_call(0, None, None, ' "Paris"}')]}),
    _chunk({"tool_calls": [_call(1, "call_2", "get_time", "{not json")]}),
    _chunk({}, "tool_calls"),
    {
        "__type__": CHUNK,
        "__data__": {
            "id": "rec-1",
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        },
    },
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    folder = tmp_path / "tests" / "integration" / "x" / "recordings"
    folder.mkdir(parents=True)
    plain = {
        "test_id": "tests/integration/x/test_a.py::test_plain",
        "request": REQUEST,
        "response": {
            "body": {
                "__type__": "openai.types.chat.chat_completion.ChatCompletion",
                "__data__": {
                    "id": "rec-2",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "logprobs": None,
                            "message": {"role": "assistant", "content": "Sunny."},
                        }
                    ],
                    "usage": {"total_tokens": 3},
                },
            },
            "is_streaming": False,
        },
    }
    stream = {"test_id": TEST_ID, "request": REQUEST, "response": {"body": STREAM, "is_streaming": True}}
    (folder / f"{HASH}.json").write_text(json.dumps(plain, indent=2) + "\n")
    (folder / f"{STREAM_HASH}.json").write_text(json.dumps(stream, indent=2) + "\n")
    (folder / "broken.json").write_text("{not json")
    monkeypatch.chdir(tmp_path)
    return folder


def test_show_human(runner: CliRunner, project: Path) -> None:
    del project
    result = runner.invoke(app, ["show", "abcdef"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[image/png 34 KB]" in out
    assert "base64" not in out and PNG[30:60] not in out
    assert "[bold]not markup[/bold]" in out  # user data is never markup
    for text in ("system", "user", "assistant", "tool", "get_weather", "call_0", "temperature=0.5", "sunny"):
        assert text in out, text
    assert "total_tokens=3" in out


def test_show_json(runner: CliRunner, project: Path) -> None:
    del project
    result = runner.invoke(app, ["show", "--json", "abcdef", STREAM_HASH[:10]], catch_exceptions=False)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["request"]["tools"] == ["get_weather"]
    assert first["request"]["parameters"] == {"stream": True, "temperature": 0.5}
    assert [m["role"] for m in first["request"]["messages"]] == ["system", "user", "assistant", "tool"]
    assert first["request"]["messages"][1]["parts"][1] == {
        "type": "text",
        "text": "[image/png 34 KB]",
        "name": None,
        "call_id": None,
        "arguments": None,
    }
    assert first["response"]["streaming"] is False
    assert second["response"] | {"usage": None} == {
        "status": None,
        "exception": None,
        "kind": "chat.completion.chunk",
        "body_type": CHUNK,
        "streaming": True,
        "chunks": 6,
        "usage": None,
    }
    assert second["response"]["usage"]["total_tokens"] == 12


def test_show_assemble_json(runner: CliRunner, project: Path) -> None:
    del project
    result = runner.invoke(app, ["show", "--assemble", "--json", TEST_ID], catch_exceptions=False)
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    data = json.loads(line)
    assert data["path"].endswith(f"{STREAM_HASH}.json")
    assert data["kind"] == "chat.completion.chunk" and data["n_items"] == 6
    message = data["choices"][0]["message"]
    assert message["content"] == "Let me check."
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in message["tool_calls"]] == [
        ("call_1", "get_weather", '{"city": "Paris"}'),
        ("call_2", "get_time", "{not json"),
    ]
    assert data["usage"]["total_tokens"] == 12
    assert any("not JSON" in warning for warning in data["warnings"])


def test_show_assemble_human(runner: CliRunner, project: Path) -> None:
    del project
    result = runner.invoke(app, ["show", "--assemble", "fedcba98"], catch_exceptions=False)
    assert result.exit_code == 0
    out = result.stdout
    assert "finish: tool_calls" in out
    assert '"city": "Paris"' in out  # pretty-printed
    assert "{not json" in out and "not valid JSON" in out
    assert "total_tokens=12" in out
    assert "warning: choice 0: tool call get_time has arguments that are not JSON" in out


def test_non_stream_body_assembles_to_the_same_shape(runner: CliRunner, project: Path) -> None:
    del project
    result = runner.invoke(app, ["show", "--assemble", "--json", "abcdef"], catch_exceptions=False)
    data = json.loads(result.stdout)
    assert data["choices"][0]["message"]["content"] == "Sunny."
    assert data["warnings"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "abc123"], "error: no recording matches 'abc123'\n"),
        (["show", "--assemble", "abc123"], "error: no recording matches 'abc123'\n"),
        (["show", "tests/integration/x/test_a.py::test_none"], "error: no recording matches"),
        (["show", "--raw", "--json", "abcdef"], "error: --raw"),
        (["show", "abc"], "error: 'abc' is too short for a hash prefix"),
    ],
)
def test_bad_references_exit_2(runner: CliRunner, project: Path, args: list[str], message: str) -> None:
    del project
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)


def test_unreadable_file_is_reported_and_the_rest_shown(runner: CliRunner, project: Path) -> None:
    broken = project / "broken.json"
    result = runner.invoke(app, ["show", "--assemble", "--json", str(broken), "abcdef"], catch_exceptions=False)
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 1
    assert str(broken) in result.stderr and "invalid JSON" in result.stderr


def test_raw_prints_the_file_as_stored(runner: CliRunner, project: Path) -> None:
    result = runner.invoke(app, ["show", "--raw", "abcdef"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout_bytes == (project / f"{HASH}.json").read_bytes()


def test_sse_file(runner: CliRunner, tmp_path: Path, project: Path) -> None:
    del project
    lines = [f"data: {json.dumps(item['__data__'])}\n\n" for item in STREAM]
    capture = tmp_path / "capture.sse"
    capture.write_text("".join(lines) + "data: [DONE]\n\n")
    result = runner.invoke(app, ["show", "--assemble", "--json", str(capture)], catch_exceptions=False)
    assert json.loads(result.stdout)["choices"][0]["finish_reason"] == "tool_calls"
    result = runner.invoke(app, ["show", str(capture)], catch_exceptions=False)
    assert result.exit_code == 0 and "6 chunks" in result.stdout


def test_every_corpus_recording_shows(runner: CliRunner, corpus: Path) -> None:
    """Human and JSON output of every corpus file, assembled or not, in one process: never a traceback."""
    files = [str(p) for p in sorted(corpus.rglob("*")) if p.suffix in (".json", ".sse")]
    files = [f for f in files if not f.endswith("expected-assembly.json")]
    for args in (["show", "--json"], ["show", "--assemble", "--json"], ["show", "--assemble"], ["show"]):
        result = runner.invoke(app, [*args, *files], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        if "--json" in args:
            assert len(result.stdout.splitlines()) == len(files)


@pytest.mark.parametrize(
    "value",
    [{"a": [1, 2.5, {"b": None}], "c": "é"}, [], {}, [[]], {"k": {}}, True, None, ["x", [True, False]], ("t", 1)],
)
def test_short_values_read_as_json_dumps_writes_them(value: object) -> None:
    from llm_fixtures.render.show import _compact_json, _short

    text = json.dumps(value, ensure_ascii=False, default=str)
    assert _compact_json(value, 10_000) == text
    assert _short(value, 12) == (text if len(text) <= 12 else text[:11] + "…")


def test_a_short_value_never_recurses_nor_encodes_what_is_cut() -> None:
    from llm_fixtures.render.show import _short

    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert _short(deep, 10) == "[" * 9 + "…"
    assert _short({"big": ["x" * 10] * 1_000_000}, 20) == '{"big": ["xxxxxxxxx…'
