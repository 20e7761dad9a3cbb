"""`fixtures rerecord --runner http` against a real HTTP server on 127.0.0.1 (tests/fakeserver.py), through the
real httpx client code: OpenAI SSE and Ollama NDJSON, the http passthrough (Anthropic Messages, Gemini
Interactions), retries, injected failures, API keys, review."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import builders
from fakeserver import FakeServer
from llm_fixtures.app import app
from llm_fixtures.hashing import verify_name
from llm_fixtures.rerecording.calls import build_call
from llm_fixtures.rerecording.httprunner import HttpJob, HttpOptions, run_http

SUITE = "tests/integration/inference"
TEST_ID = f"{SUITE}/test_chat.py::test_chat[txt=ollama/llama3.2:3b]"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as running:
        yield running


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n')
    (tmp_path / SUITE / "recordings").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "MY_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def recording(
    url: str, endpoint: str, body: dict[str, Any], *, streaming: bool = False, test_id: str = TEST_ID
) -> dict[str, Any]:
    """A recording as the upstream recorder writes it, with an old answer."""
    old = builders.typed(
        builders.CHAT_COMPLETION,
        {"id": "rec-old", "choices": [], "created": 0, "model": body.get("model", ""), "object": "x"},
    )
    request = builders.sdk_request(url + endpoint, endpoint, body)
    return builders.recording(request, [old] if streaming else old, streaming=streaming, test_id=test_id)


def write(project: Path, raw: dict[str, Any]) -> Path:
    endpoint = raw["request"]["endpoint"]
    if endpoint == "/v1/models":
        raw["response"]["body"] = [builders.typed(builders.MODEL, {"id": "old-model"})]
    elif endpoint == "/api/tags":
        # The same model set as the server's, so the digest (and the name) stays.
        models = {"models": [{"model": "fake-model-a"}, {"model": "fake-model-b"}]}
        raw["response"]["body"] = {"__type__": "ollama._types.ListResponse", "__data__": models}
    return builders.write_named(project / SUITE / "recordings", raw)


def chat(model: str = "llama3.2:3b", text: str = "Say hi", stream: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["rerecord", "--runner", "http", *args], catch_exceptions=False)


def test_streaming_chat_is_stored_as_the_recorder_stores_it(project: Path, server: FakeServer) -> None:
    path = write(project, recording("http://0.0.0.0:11434/v1", "/v1/chat/completions", chat(), streaming=True))
    before = json.loads(path.read_bytes())
    result = invoke(str(path), "--base-url", server.url)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.startswith("ok ") and "(changed: volatile, type, content, finish_reason, usage" in result.stdout
    )
    after = json.loads(path.read_bytes())
    assert after["request"] == before["request"]
    assert list(after) == list(before)
    assert verify_name(path.name, after).status == "ok"
    chunks = after["response"]["body"]
    assert after["response"]["is_streaming"] is True
    assert {chunk["__type__"] for chunk in chunks} == {"openai.types.chat.chat_completion_chunk.ChatCompletionChunk"}
    first = chunks[0]["__data__"]
    # Every field of the SDK object, nulls kept, unknown wire keys after them; then the upstream normalization.
    assert list(first) == [
        "id", "choices", "created", "model", "object", "service_tier", "system_fingerprint", "usage", "obfuscation",
    ]  # fmt: skip
    assert first["id"] == f"rec-{path.name[:12]}" and first["created"] == 0
    assert list(first["choices"][0]["delta"]) == ["content", "function_call", "refusal", "role", "tool_calls"]
    assert chunks[-1]["__data__"]["usage"]["total_tokens"] == 12
    text = "".join(c["__data__"]["choices"][0]["delta"]["content"] or "" for c in chunks if c["__data__"]["choices"])
    assert text == "Hello from the fake server: Say hi"
    # The doubled /v1/v1 of the stored URL is the SDK base URL plus the endpoint: sent once.
    assert [seen.path for seen in server.seen] == ["/v1/chat/completions"]
    assert "authorization" not in {key.lower() for key in server.seen[0].headers}
    assert path.read_bytes().endswith(b"}\n")


def test_non_streaming_chat_embeddings_and_completions(project: Path, server: FakeServer) -> None:
    base = "http://localhost:8000/v1"
    paths = [
        write(project, recording(base, "/v1/chat/completions", chat(stream=False))),
        write(project, recording(base, "/v1/embeddings", {"model": "emb", "input": ["a", "b"]})),
        write(project, recording(base, "/v1/completions", {"model": "m", "prompt": "Once", "stream": False})),
    ]
    result = invoke(*map(str, paths), "--base-url", server.url, "--jobs", "2")
    assert result.exit_code == 0, result.output
    types = [json.loads(p.read_bytes())["response"]["body"]["__type__"] for p in paths]
    assert types == [
        "openai.types.chat.chat_completion.ChatCompletion",
        "openai.types.create_embedding_response.CreateEmbeddingResponse",
        "openai.types.completion.Completion",
    ]
    message = json.loads(paths[0].read_bytes())["response"]["body"]["__data__"]["choices"][0]["message"]
    assert message["content"] == "Hello from the fake server: Say hi"
    assert message["tool_calls"] is None and "annotations" in message
    assert sorted(seen.path for seen in server.seen) == ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]


def test_ollama_native_endpoints(project: Path, server: FakeServer) -> None:
    host = "http://localhost:11434"
    chat_path = write(project, recording(host, "/api/chat", chat(stream=True), streaming=True))
    generate = write(project, recording(host, "/api/generate", {"model": "m", "prompt": "Why?", "raw": True}))
    embed = write(project, recording(host, "/api/embeddings", {"model": "e", "input": ["x"]}))
    tags = write(project, recording(host, "/api/tags", {}))
    ps = write(project, recording(host, "/api/ps", {}))
    result = invoke(*map(str, (chat_path, generate, embed, tags, ps)), "--base-url", server.url)
    assert result.exit_code == 0, result.output
    stream = json.loads(chat_path.read_bytes())["response"]
    assert stream["is_streaming"] is True
    assert {item["__type__"] for item in stream["body"]} == {"ollama._types.ChatResponse"}
    last = stream["body"][-1]["__data__"]
    assert last["done"] is True and last["created_at"] == "1970-01-01T00:00:00.000000Z" and last["eval_duration"] == 0
    assert list(last["message"]) == ["role", "content", "thinking", "images", "tool_name", "tool_calls"]
    gen = json.loads(generate.read_bytes())["response"]["body"]
    assert gen["__type__"] == "ollama._types.GenerateResponse" and gen["__data__"]["response"].endswith("Why?")
    assert json.loads(embed.read_bytes())["response"]["body"]["__type__"] == "ollama._types.EmbedResponse"
    listed = json.loads(tags.read_bytes())["response"]["body"]
    assert listed["__type__"] == "ollama._types.ListResponse"
    assert listed["__data__"]["models"][0]["modified_at"] == "2025-08-18T12:47:56.732989-07:00"
    assert "name" not in listed["__data__"]["models"][0]  # the Ollama SDK drops unknown keys
    assert json.loads(ps.read_bytes())["response"]["body"]["__type__"] == "ollama._types.ProcessResponse"
    sent = {(seen.method, seen.path): seen.body for seen in server.seen}
    assert sent[("POST", "/api/generate")]["stream"] is False  # the SDK always says; the server's default is yes
    assert ("POST", "/api/embed") in sent and ("GET", "/api/tags") in sent and ("GET", "/api/ps") in sent


def test_model_list_with_a_new_model_set_gets_a_new_name(project: Path, server: FakeServer) -> None:
    old = write(project, recording("http://localhost:8000/v1", "/v1/models", {}))
    old_bytes = old.read_bytes()
    result = invoke(str(old), "--base-url", server.url)
    assert result.exit_code == 0, result.output
    assert old.read_bytes() == old_bytes
    new = [p for p in old.parent.iterdir() if p.name.startswith("models-") and p != old]
    assert len(new) == 1
    body = json.loads(new[0].read_bytes())["response"]["body"]
    assert [item["__data__"]["id"] for item in body] == ["fake-model-a", "fake-model-b"]
    assert verify_name(new[0].name, json.loads(new[0].read_bytes())).status == "ok"
    assert "superseded" in result.stderr and old.name in result.stderr
    assert server.seen[0].method == "GET" and server.seen[0].path == "/v1/models"


@pytest.mark.parametrize(
    ("kind", "times", "expect_ok", "reason"),
    [
        ("500", None, False, "HTTP 500"),
        ("429", 2, True, None),
        ("break", None, False, "broke"),
        ("error-event", None, False, "the stream reported an error"),
        ("400", None, False, "HTTP 400"),
    ],
)
def test_injected_failures(
    project: Path, server: FakeServer, kind: Any, times: int | None, expect_ok: bool, reason: str | None
) -> None:
    server.fail("flaky", kind, times)
    bad = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", chat("flaky"), streaming=True))
    good = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", chat(), streaming=True))
    bad_bytes = bad.read_bytes()
    jobs = []
    for path in (bad, good):
        raw = json.loads(path.read_bytes())
        jobs.append(HttpJob(path, path.name, raw, build_call(raw["request"], server.url)))
    results = run_http(jobs, HttpOptions(jobs=2, retries=2, backoff=0.01, timeout=5))
    assert results[1].status == "ok"
    if expect_ok:
        assert results[0].status == "ok" and results[0].attempts == 3
    else:
        assert results[0].status == "failed"
        assert reason is not None and reason in (results[0].reason or "")
        assert bad.read_bytes() == bad_bytes  # byte for byte
    assert not [p for p in bad.parent.iterdir() if p.name.endswith(".tmp")]


def test_mid_stream_500_through_the_cli_leaves_the_old_file(project: Path, server: FakeServer) -> None:
    server.fail("broken", "break")
    path = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", chat("broken"), streaming=True))
    before = path.read_bytes()
    result = invoke(str(path), "--base-url", server.url, "--retries", "1")
    assert result.exit_code == 1
    assert "failed" in result.stdout and "broke" in result.stdout and "after 2 attempts" in result.stdout
    assert path.read_bytes() == before
    assert len(server.seen) == 2


def test_slow_answer_times_out(project: Path, server: FakeServer) -> None:
    server.fail("slow", "slow", seconds=1.5)
    path = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", chat("slow"), streaming=True))
    before = path.read_bytes()
    result = invoke(str(path), "--base-url", server.url, "--timeout", "0.3", "--retries", "0")
    assert result.exit_code == 1
    assert "timed out" in result.stdout
    assert path.read_bytes() == before


def test_missing_api_key_refuses_before_sending(project: Path, server: FakeServer) -> None:
    path = write(project, recording("https://api.openai.com/v1", "/v1/chat/completions", chat("gpt-4o")))
    before = path.read_bytes()
    result = invoke(str(path))
    assert result.exit_code == 2
    assert "OPENAI_API_KEY" in result.stderr and "nothing was sent" in result.stderr
    result = invoke(str(path), "--base-url", "https://proxy.example.com/v1", "--api-key-env", "MY_KEY")
    assert result.exit_code == 2 and "MY_KEY is not set" in result.stderr
    assert path.read_bytes() == before
    assert server.seen == []


def test_api_key_is_sent_but_never_stored(project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test-secret-123")
    path = write(project, recording("https://api.openai.com/v1", "/v1/chat/completions", chat("gpt-4o")))
    result = invoke(str(path), "--base-url", server.url, "--api-key-env", "MY_KEY")
    assert result.exit_code == 0, result.output
    assert server.seen[0].headers.get("Authorization") == "Bearer sk-test-secret-123"
    stored = path.read_text()
    assert "sk-test-secret" not in stored and '"headers": {}' in stored


def test_dry_run_plan_sends_nothing(project: Path, server: FakeServer) -> None:
    raw = recording("https://api.openai.com/v1", "/v1/chat/completions", chat("gpt-4o", stream=False))
    raw["response"]["body"]["__data__"]["usage"] = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
    write(project, raw)
    tool = {"test_id": TEST_ID, "request": {"test_id": TEST_ID, "provider": "tavily", "tool_name": "web_search",
            "kwargs": {"query": "x"}}, "response": {"body": None, "is_streaming": False}}  # fmt: skip
    builders.write_recording(project / SUITE / "recordings" / ("f" * 64 + ".json"), tool)
    result = invoke("--test", "test_chat", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    items = [json.loads(line) for line in result.stdout.splitlines()]
    sent = [item for item in items if item["action"] == "send"]
    assert len(sent) == 1 and sent[0]["url"] == "https://api.openai.com/v1/chat/completions"
    assert sent[0]["key_env"] == "OPENAI_API_KEY" and sent[0]["usage"]["total_tokens"] == 14
    assert [item["reason"] for item in items if item["action"] == "skip"] == [
        "not an SDK inference or http passthrough request (a tool or file-processor recording)"
    ]
    human = invoke("--test", "test_chat", "--dry-run")
    assert "1 request to send; 14 tokens last time: 10 prompt + 4 completion" in human.stdout
    assert server.seen == []


@pytest.mark.usefixtures("project")
def test_nothing_is_selected_without_asking() -> None:
    result = invoke()
    assert result.exit_code == 2 and "--all" in result.stderr


def two_tests(project: Path) -> tuple[Path, Path, str]:
    """A streaming recording of TEST_ID and one of another test; the other test's id."""
    first = write(project, recording("http://h:1/v1", "/v1/chat/completions", chat(text="one"), streaming=True))
    other = TEST_ID.replace("test_chat[", "test_other[")
    raw = recording("http://h:1/v1", "/v1/chat/completions", chat(text="two"), streaming=True, test_id=other)
    return first, write(project, raw), other


def test_review_stages_then_accept_and_reject(project: Path, server: FakeServer) -> None:
    first, second, other = two_tests(project)
    olds = {first: first.read_bytes(), second: second.read_bytes()}
    result = invoke(str(first), str(second), "--base-url", server.url, "--review")
    assert result.exit_code == 0, result.output
    assert "staged for review" in result.stderr
    assert all(path.read_bytes() == data for path, data in olds.items())
    pending = CliRunner().invoke(app, ["rerecord", "--pending", "--json"])
    entries = [json.loads(line) for line in pending.stdout.splitlines()]
    assert sorted(entry["test_id"] for entry in entries) == sorted([TEST_ID, other])
    assert {entry["kind"] for entry in entries} == {"changed"}
    accepted = CliRunner().invoke(app, ["rerecord", "--accept", "test_other"])
    assert accepted.exit_code == 0 and "accepted 1" in accepted.stderr
    assert second.read_bytes() != olds[second] and first.read_bytes() == olds[first]
    rejected = CliRunner().invoke(app, ["rerecord", "--reject"])
    assert rejected.exit_code == 0 and "rejected 1" in rejected.stderr
    assert first.read_bytes() == olds[first]
    assert CliRunner().invoke(app, ["rerecord", "--pending", "--json"]).stdout == ""


def test_pending_and_diff_pending_show_what_each_staged_file_changes(project: Path, server: FakeServer) -> None:
    first, second, _other = two_tests(project)
    staged = invoke(str(first), str(second), "--base-url", server.url, "--review")
    assert staged.exit_code == 0, staged.output
    old_text = "Hello from the fake server"  # what `two_tests` recorded was an empty answer: any text is new
    # `--pending`: the table, then the `fixtures diff` of each staged file against the file it replaces.
    human = CliRunner().invoke(app, ["rerecord", "--pending"], catch_exceptions=False)
    assert human.exit_code == 0, human.output
    assert "current files → pending: 2 pairs" in human.stdout
    assert human.stdout.count("changed") >= 2 and "content" in human.stdout and old_text in human.stdout
    lines = [json.loads(line) for line in invoke_pending("--json").stdout.splitlines()]
    assert len(lines) == 2 and all("content" in line["changes"] for line in lines)
    # `fixtures diff --pending`: the same pairs, the diff's own exit code (1: something changed).
    diffed = CliRunner().invoke(app, ["diff", "--pending"], catch_exceptions=False)
    assert diffed.exit_code == 1, diffed.output
    assert "current files → pending: 2 pairs" in diffed.stdout and old_text in diffed.stdout
    reports = [
        json.loads(line) for line in CliRunner().invoke(app, ["diff", "--pending", "--json"]).stdout.splitlines()
    ]
    assert {report["status"] for report in reports} == {"changed"}
    assert {report["new"] for report in reports} == {str(path.relative_to(project)) for path in (first, second)}
    narrowed = CliRunner().invoke(app, ["diff", "--pending", "--json", "test_other"]).stdout.splitlines()
    assert len(narrowed) == 1
    misused = CliRunner().invoke(app, ["diff", "--pending", "--git", "HEAD"])
    assert misused.exit_code == 2 and "takes no --git" in misused.stderr
    CliRunner().invoke(app, ["rerecord", "--reject"], catch_exceptions=False)
    empty = CliRunner().invoke(app, ["diff", "--pending"], catch_exceptions=False)
    assert empty.exit_code == 0


def invoke_pending(*args: str) -> Any:
    return CliRunner().invoke(app, ["rerecord", "--pending", *args], catch_exceptions=False)


def test_review_in_a_terminal_asks_per_test(project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_fixtures.commands.rerecord as command

    monkeypatch.setattr(command, "interactive", lambda: True)
    first, second, other = two_tests(project)
    olds = {first: first.read_bytes(), second: second.read_bytes()}
    result = CliRunner().invoke(
        app, ["rerecord", "--runner", "http", str(first), str(second), "--base-url", server.url, "--review"],
        input="x\na\nr\n", catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # Tests are reviewed in test-id order: test_chat first (accepted), then test_other (rejected).
    assert "[1/2] " + TEST_ID in result.stdout and "[2/2] " + other in result.stdout
    assert "content" in result.stdout and "volatile" in result.stdout  # the diff classes of each change
    assert "accepted 1, rejected 1, 0 still pending" in result.stderr
    assert first.read_bytes() != olds[first] and second.read_bytes() == olds[second]
    assert CliRunner().invoke(app, ["rerecord", "--pending", "--json"]).stdout == ""


def test_stale_selects_what_check_flags(project: Path, server: FakeServer) -> None:
    good = write(project, recording("http://h:1/v1", "/v1/chat/completions", chat(text="fine")))
    edited = recording("http://h:1/v1", "/v1/chat/completions", chat(text="before the edit"))
    stale = write(project, edited)
    raw = json.loads(stale.read_bytes())
    raw["request"]["body"]["messages"][0]["content"] = "edited after recording"
    builders.write_recording(stale, raw)
    result = invoke("--stale", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    paths = [json.loads(line)["path"] for line in result.stdout.splitlines()]
    assert paths == [str(stale.relative_to(project))]
    assert good.exists() and server.seen == []


@pytest.mark.usefixtures("corpus")
def test_every_supported_corpus_recording_through_the_cli(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every corpus recording the http runner supports, re-recorded against the loopback server: all succeed, the
    stored requests are untouched and every name is as valid as it was."""
    import shutil

    from conftest import CORPUS

    source = CORPUS / "llama-stack" / "tests"
    shutil.copytree(source, project / "tests", dirs_exist_ok=True)
    before = {p: json.loads(p.read_bytes()) for p in (project / "tests").rglob("*.json")}
    verdicts = {p: verify_name(p.name, raw).status for p, raw in before.items()}
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    result = invoke("--all", "--base-url", server.url, "--jobs", "8", "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 143  # 14 of them http passthrough (Messages, Interactions)
    # Model lists that share a request hash but came from different servers (4 in common/, 2 in inference/): sent
    # to one server they would all get one name; all but the first are refused rather than overwritten.
    failed = [line for line in lines if line["status"] != "ok"]
    assert len(failed) == 4 and all("already in this run" in line["reason"] for line in failed)
    assert result.exit_code == 1
    for line in lines:
        if line["status"] != "ok":
            continue
        path = project / line["path"]
        written = Path(line["written"])
        after = json.loads(written.read_bytes())
        assert after["request"] == before[path]["request"]
        assert verify_name(written.name, after).status == verdicts[path]
    assert {seen.path for seen in server.seen} == {
        "/v1/chat/completions", "/openai/v1/chat/completions", "/ml/v1/chat/completions", "/v1/completions",
        "/v1/embeddings", "/v1/models", "/models", "/api/ps", "/v1/messages", "/v1beta/interactions",
    }  # fmt: skip
    assert "skipped" in result.stderr


def test_settings_give_the_defaults_and_flags_win(project: Path, server: FakeServer) -> None:
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.fixtures.rerecord]\nbase_url = "{server.url}"\n'
        'api_key_env = "MY_KEY"\nretries = 0\n'
    )
    server.fail("flaky", "500", times=2)
    path = write(project, recording("https://api.openai.com/v1", "/v1/chat/completions", chat("flaky")))
    dry = invoke(str(path), "--dry-run", "--json")
    item = json.loads(dry.stdout)
    assert item["url"] == f"{server.url}/v1/chat/completions" and item["key_env"] == "MY_KEY"
    refused = invoke(str(path))
    assert refused.exit_code == 2 and "MY_KEY is not set" in refused.stderr
    allowed = invoke(str(path), "--api-key-env", "HOME")  # any variable that is set
    assert allowed.exit_code == 1 and "HTTP 500" in allowed.stdout  # retries = 0 from the settings
    again = invoke(str(path), "--api-key-env", "HOME", "--retries", "1")  # fails once more, then passes
    assert again.exit_code == 0, again.output
    assert len(server.seen) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "--base-url", "notaurl"], "is not an http(s) URL"),
        (["--accept", "--reject"], "one at a time"),
        (["no-such-file.json"], "no recording matches"),
        (["--all", "--base-url", "ftp://host/v1"], "is not an http(s) URL"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(project: Path, args: list[str], message: str) -> None:
    write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", chat()))
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("error: ") and "Traceback" not in result.output


def test_only_unreadable_files_selected_is_exit_2(project: Path) -> None:
    broken = project / "tests" / "integration" / "recordings" / "broken.json"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text('{"request": ')
    for args in (["--dry-run"], []):
        result = invoke(*args, str(broken))
        assert result.exit_code == 2, result.output
        assert "broken.json: truncated JSON" in result.stderr and "Traceback" not in result.output


def test_nothing_pending_is_said_on_stderr(project: Path) -> None:
    result = CliRunner().invoke(app, ["rerecord", "--pending"])
    assert result.exit_code == 0 and result.stdout == "" and "nothing pending" in result.stderr
    assert project.is_dir()


# --- the http passthrough: Anthropic Messages and Gemini Interactions ----------------------------------------

ANTHROPIC = "https://api.anthropic.com/v1/messages"
INTERACTIONS = "https://generativelanguage.googleapis.com/v1beta/interactions"
MESSAGES_TEST = "tests/integration/messages/test_messages.py::test_text[txt=anthropic/claude-haiku-4-5]"
INTERACTIONS_TEST = "tests/integration/interactions/test_interactions.py::test_text[txt=gemini/gemini-2.5-flash-lite]"


def http_recording(url: str, payload: dict[str, Any], test_id: str = MESSAGES_TEST) -> dict[str, Any]:
    """An http recording as the recorder's httpx patch writes it, with an old answer."""
    request = builders.http_request(url, payload, test_id=test_id)
    if payload.get("stream"):
        return builders.recording(request, ["event: old", 'data: {"type":"old"}', ""], streaming=True, test_id=test_id)
    return builders.recording(request, {"type": "old"}, status=200, test_id=test_id)


def write_http(project: Path, raw: dict[str, Any]) -> Path:
    """The recording (http or SDK) in its test's `recordings` folder, under the name the current rule gives it."""
    return builders.write_named(project / Path(raw["test_id"].split("::")[0]).parent / "recordings", raw)


def messages(text: str = "Say hi", *, stream: bool = False, model: str = "claude-haiku-4-5") -> dict[str, Any]:
    payload: dict[str, Any] = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    return {**payload, "stream": True} if stream else payload


def interaction(text: str = "Name the moons of Mars", *, stream: bool = False) -> dict[str, Any]:
    return {"model": "gemini-2.5-flash-lite", "input": text, "stream": stream}


def event_names(lines: list[str]) -> list[str]:
    return [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]


def assert_accepted(path: Path, assembled: str | None = None) -> None:
    """`fixtures check` finds nothing wrong with a written file, and `show --assemble` folds a stream."""
    check = CliRunner().invoke(app, ["check", str(path)])
    assert check.exit_code == 0, check.output
    if assembled is not None:
        shown = CliRunner().invoke(app, ["show", "--assemble", str(path)])
        assert shown.exit_code == 0, shown.output
        assert assembled in " ".join(shown.stdout.split())


def test_anthropic_stream_is_stored_as_its_raw_sse_lines(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "sk-ant-test-secret-123")
    path = write_http(project, http_recording(ANTHROPIC, messages(stream=True)))
    before = json.loads(path.read_bytes())
    result = invoke(str(path), "--base-url", server.url, "--api-key-env", "MY_KEY", "--json")
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)
    assert line["status"] == "ok" and line["http_status"] == 200 and line["changed"] is True
    after = json.loads(path.read_bytes())
    assert after["request"] == before["request"] and list(after) == list(before)
    assert verify_name(path.name, after).status == "ok"
    # What the recorder's `stream` patch stores: every line of aiter_lines(), the blank line after each event
    # included; no status.
    assert list(after["response"]) == ["body", "is_streaming"] and after["response"]["is_streaming"] is True
    lines = after["response"]["body"]
    assert event_names(lines) == [
        "message_start", "content_block_start", "ping", *["content_block_delta"] * 4, "content_block_stop",
        "message_delta", "message_stop",
    ]  # fmt: skip
    assert lines[0::3] == [f"event: {name}" for name in event_names(lines)]
    assert all(line.startswith("data: {") for line in lines[1::3]) and set(lines[2::3]) == {""}
    assert lines[-1] == "" and len(lines) == 30
    seen = server.seen[0]
    assert (seen.method, seen.path, seen.body) == ("POST", "/v1/messages", before["request"]["payload"])
    assert seen.headers.get("x-api-key") == "sk-ant-test-secret-123"
    assert seen.headers.get("anthropic-version") == "2023-06-01"
    assert "Authorization" not in seen.headers
    text = path.read_text()
    assert "sk-ant-test-secret" not in text and "headers" not in text and text.endswith("}\n")
    assert_accepted(path, "Hello from the fake server: Say hi")


def test_anthropic_answer_is_stored_with_its_status(project: Path, server: FakeServer) -> None:
    path = write_http(project, http_recording(ANTHROPIC, messages("What is 2+2?")))
    result = invoke(str(path), "--base-url", server.url)
    assert result.exit_code == 0, result.output
    response = json.loads(path.read_bytes())["response"]
    assert list(response) == ["status", "body", "is_streaming"]
    assert response["status"] == 200 and response["is_streaming"] is False
    body = response["body"]  # the JSON answer as it came: a plain dict, no envelope, no normalized id
    assert body["id"] == "msg_fake" and body["content"] == [
        {"type": "text", "text": "Hello from the fake server: What is 2+2?"}
    ]
    assert body["usage"] == {"input_tokens": 7, "output_tokens": 5}
    assert server.seen[0].headers.get("anthropic-version") == "2023-06-01"
    assert "x-api-key" not in server.seen[0].headers  # a loopback target takes no key
    assert_accepted(path, "Hello from the fake server: What is 2+2?")


def test_a_400_answer_is_stored_as_upstream_does(project: Path, server: FakeServer) -> None:
    """A rejected request is a result (the recorder stores any `post` answer with its status); a streamed one
    is not (ogx raises before reading a line, so the recorder stores nothing), nor is a refused key."""
    server.fail("bad-key", "401")
    empty = {"model": "claude-haiku-4-5", "max_tokens": 8, "messages": []}
    rejected = write_http(project, http_recording(ANTHROPIC, empty))
    streamed = write_http(project, http_recording(ANTHROPIC, {**empty, "stream": True}))
    refused = write_http(project, http_recording(ANTHROPIC, messages(model="bad-key")))
    olds = {path: path.read_bytes() for path in (streamed, refused)}
    result = invoke(str(rejected), str(streamed), str(refused), "--base-url", server.url, "--json")
    assert result.exit_code == 1, result.output
    lines = {Path(line["path"]).name: line for line in map(json.loads, result.stdout.splitlines())}
    assert lines[rejected.name]["status"] == "ok" and lines[rejected.name]["http_status"] == 400
    assert "error" in lines[rejected.name]["changes"]  # it held a 200 answer: the diff says it is an error now
    response = json.loads(rejected.read_bytes())["response"]
    assert response == {
        "status": 400,
        "body": {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "messages: at least one message is required"},
            "request_id": "req_fake",
        },
        "is_streaming": False,
    }
    assert lines[streamed.name]["status"] == "failed" and lines[streamed.name]["reason"].startswith("HTTP 400")
    assert lines[refused.name]["status"] == "failed" and "HTTP 401" in lines[refused.name]["reason"]
    assert "not stored" in lines[refused.name]["reason"] and lines[refused.name]["attempts"] == 1
    assert all(path.read_bytes() == data for path, data in olds.items())
    assert_accepted(rejected)


def test_gemini_interactions_answer_and_stream(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", "gemini-test-secret-456")
    answer = write_http(project, http_recording(INTERACTIONS, interaction(), INTERACTIONS_TEST))
    stream = write_http(project, http_recording(INTERACTIONS, interaction("Say hi", stream=True), INTERACTIONS_TEST))
    result = invoke(str(answer), str(stream), "--base-url", server.url, "--api-key-env", "MY_KEY")
    assert result.exit_code == 0, result.output
    stored = json.loads(answer.read_bytes())["response"]
    assert stored["status"] == 200 and stored["is_streaming"] is False
    assert stored["body"]["outputs"] == [{"type": "text", "text": "Hello from the fake server: Name the moons of Mars"}]
    lines = json.loads(stream.read_bytes())["response"]["body"]
    assert event_names(lines)[0] == "interaction.start" and event_names(lines)[-2:] == ["interaction.complete", "done"]
    assert lines[-3:] == ["event: done", "data: [DONE]", ""]
    # The recorded path below the host (`/v1beta`) is kept; the key goes in Gemini's header.
    assert {seen.path for seen in server.seen} == {"/v1beta/interactions"}
    assert {seen.headers.get("x-goog-api-key") for seen in server.seen} == {"gemini-test-secret-456"}
    assert all("anthropic-version" not in seen.headers for seen in server.seen)
    assert "gemini-test-secret" not in answer.read_text() + stream.read_text()
    assert_accepted(answer)
    assert_accepted(stream, "Hello from the fake server: Say hi")


def test_missing_provider_keys_are_refused_before_sending(project: Path, server: FakeServer) -> None:
    paths = [
        write_http(project, http_recording(ANTHROPIC, messages())),
        write_http(project, http_recording(INTERACTIONS, interaction(), INTERACTIONS_TEST)),
    ]
    before = [path.read_bytes() for path in paths]
    plan = invoke(*map(str, paths), "--dry-run", "--json")
    assert [(item["url"], item["key_env"]) for item in map(json.loads, plan.stdout.splitlines())] == [
        (INTERACTIONS, "GEMINI_API_KEY"),
        (ANTHROPIC, "ANTHROPIC_API_KEY"),
    ]
    result = invoke(*map(str, paths))
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
    assert "ANTHROPIC_API_KEY (for 1 request), GEMINI_API_KEY (for 1 request)" in result.stderr
    assert "nothing was sent" in result.stderr
    assert [path.read_bytes() for path in paths] == before
    assert server.seen == []


@pytest.mark.parametrize(
    ("kind", "times", "expect_ok", "attempts", "reason"),
    [
        ("break", None, False, 3, "the connection broke"),
        ("error-event", 1, True, 2, None),  # Anthropic's overloaded_error mid-stream passes on a second try
        ("error-event", None, False, 3, "the stream reported an error"),
        ("500", 1, True, 2, None),
    ],
)
def test_passthrough_stream_failures_are_retried_and_never_stored(
    project: Path, server: FakeServer, kind: Any, times: int | None, expect_ok: bool, attempts: int, reason: str | None
) -> None:
    server.fail("flaky-claude", kind, times)
    path = write_http(project, http_recording(ANTHROPIC, messages(stream=True, model="flaky-claude")))
    old = path.read_bytes()
    raw = json.loads(old)
    job = HttpJob(path, path.name, raw, build_call(raw["request"], server.url))
    [result] = run_http([job], HttpOptions(retries=2, backoff=0.01, timeout=5))
    assert result.attempts == attempts
    if expect_ok:
        assert result.status == "ok"
        assert event_names(json.loads(path.read_bytes())["response"]["body"])[-1] == "message_stop"
    else:
        assert result.status == "failed" and reason is not None and reason in (result.reason or "")
        assert path.read_bytes() == old
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("url", "base_url", "sent_to"),
    [
        (ANTHROPIC, None, ANTHROPIC),
        (ANTHROPIC, "http://127.0.0.1:9", "http://127.0.0.1:9/v1/messages"),
        # ogx sends to `<base>/v1/messages` and drops a trailing /v1 from Ollama's base URL; so does the runner.
        ("http://0.0.0.0:11434/v1/messages", "http://localhost:11434/v1", "http://localhost:11434/v1/messages"),
        ("http://0.0.0.0:11434/v1/messages/count_tokens", "http://h:1", "http://h:1/v1/messages/count_tokens"),
        (INTERACTIONS, "http://127.0.0.1:9", "http://127.0.0.1:9/v1beta/interactions"),
        (INTERACTIONS, "http://proxy:8/gemini/v1beta/", "http://proxy:8/gemini/v1beta/interactions"),
    ],
)
def test_passthrough_calls_keep_the_recorded_path(url: str, base_url: str | None, sent_to: str) -> None:
    payload = messages(stream=True)
    call = build_call({"test_id": None, "url": url, "method": "POST", "payload": payload}, base_url)
    assert call.passthrough and call.url == sent_to and call.json is payload
    assert (call.method, call.streaming, call.wire) == ("POST", True, "lines")


def test_other_http_recordings_say_why_they_are_skipped() -> None:
    from llm_fixtures.rerecording.calls import Unsupported

    rerank: dict[str, Any] = {
        "test_id": None,
        "url": "http://localhost:8000/v1/rerank",
        "method": "POST",
        "payload": {},
    }
    with pytest.raises(Unsupported, match=r"/v1/rerank; the http runner re-records Anthropic Messages"):
        build_call(rerank)
    with pytest.raises(Unsupported, match="payload is not a JSON object"):
        build_call({**rerank, "url": ANTHROPIC, "payload": [1]})


# --- a stored http recording re-recorded with its own answer is the same file, byte for byte ------------------


def is_http(path: Path) -> bool:
    request = json.loads(path.read_bytes()).get("request")
    return isinstance(request, dict) and "payload" in request


def rerecord_own_answers(project: Path, server: FakeServer, sources: list[tuple[Path, Path]]) -> list[Path]:
    """Copy each recording (source, relative path) into the project, have the server give its stored answer
    back, re-record them all through the CLI; the copies, each checked to be byte-identical to its source."""
    copies = []
    for source, relative in sources:
        copy = project / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(source.read_bytes())
        raw = json.loads(source.read_bytes())
        response = raw["response"]
        server.answer(raw["request"]["payload"], response.get("status", 200), response["body"])
        copies.append(copy)
    result = invoke(*map(str, copies), "--base-url", server.url, "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(copies) and {(line["status"], line["changed"]) for line in lines} == {("ok", False)}
    for (source, _relative), copy in zip(sources, copies, strict=True):
        assert copy.read_bytes() == source.read_bytes(), source
    assert len(server.seen) == len(copies)
    return copies


def test_sample_http_recordings_rerecorded_with_their_own_answers_are_unchanged(
    project: Path, server: FakeServer, samples: Path
) -> None:
    sources = [(path, path.relative_to(samples)) for path in sorted(samples.rglob("*.json")) if is_http(path)]
    assert len(sources) == 3  # an Anthropic stream, an Anthropic 400, a Gemini Interactions stream
    copies = rerecord_own_answers(project, server, sources)
    for copy in copies:
        assert_accepted(copy)
    streams = [copy for copy in copies if json.loads(copy.read_bytes())["response"]["is_streaming"]]
    assert len(streams) == 2
    for stream in streams:
        shown = CliRunner().invoke(app, ["show", "--assemble", str(stream)])
        assert shown.exit_code == 0 and "finish:" in shown.stdout


def test_corpus_http_recordings_rerecorded_with_their_own_answers_are_unchanged(
    project: Path, server: FakeServer, corpus: Path
) -> None:
    base = corpus / "llama-stack"
    sources = [(path, path.relative_to(base)) for path in sorted(base.rglob("*.json")) if is_http(path)]
    statuses = sorted(str(json.loads(path.read_bytes())["response"].get("status", "stream")) for path, _ in sources)
    assert statuses == ["200"] * 3 + ["400"] * 6 + ["stream"] * 5
    rerecord_own_answers(project, server, sources)


# --- the OpenAI Responses API: POST /v1/responses ------------------------------------------------------------

RESPONSES_TEST = "tests/integration/responses/test_basic_responses.py::test_response_text[txt=openai/gpt-4o]"
RESPONSES = "openai.types.responses"


def responses_recording(body: dict[str, Any]) -> dict[str, Any]:
    """A `responses.create` recording as the recorder writes it (the SDK base URL plus `/v1/responses`)."""
    return recording("https://api.openai.com/v1", "/v1/responses", body, streaming=bool(body.get("stream")),
                     test_id=RESPONSES_TEST)  # fmt: skip


def ask(text: str = "Say hi", *, stream: bool = True, model: str = "gpt-4o", **extra: Any) -> dict[str, Any]:
    return {"model": model, "input": text, "stream": stream, **extra}


def events_of(path: Path) -> list[tuple[str, dict[str, Any]]]:
    body = json.loads(path.read_bytes())["response"]["body"]
    return [(item["__type__"].removeprefix(RESPONSES + "."), item["__data__"]) for item in body]


def test_responses_stream_is_stored_one_typed_envelope_per_event(project: Path, server: FakeServer) -> None:
    path = write_http(project, responses_recording(ask()))
    result = invoke(str(path), "--base-url", server.url)
    assert result.exit_code == 0, result.output
    assert [seen.path for seen in server.seen] == ["/v1/responses"]  # the doubled /v1/v1 is sent once
    events = events_of(path)
    assert [kind for kind, _data in events] == [
        "response_created_event.ResponseCreatedEvent",
        "response_in_progress_event.ResponseInProgressEvent",
        "response_output_item_added_event.ResponseOutputItemAddedEvent",
        "response_content_part_added_event.ResponseContentPartAddedEvent",
        *["response_text_delta_event.ResponseTextDeltaEvent"] * 4,
        "response_text_done_event.ResponseTextDoneEvent",
        "response_content_part_done_event.ResponseContentPartDoneEvent",
        "response_output_item_done_event.ResponseOutputItemDoneEvent",
        "response_completed_event.ResponseCompletedEvent",
    ]
    # Every key the server sent, in its order (unknown ones such as `obfuscation` too); no top-level id or
    # timestamp, so the upstream normalization leaves the events as they came.
    delta = events[4][1]
    assert list(delta) == [
        "type", "item_id", "output_index", "content_index", "delta", "logprobs", "obfuscation", "sequence_number",
    ]  # fmt: skip
    assert [data["sequence_number"] for _kind, data in events] == list(range(len(events)))
    assert events[0][1]["response"]["id"] == "resp_live"
    assert verify_name(path.name, json.loads(path.read_bytes())).status == "ok"
    assert_accepted(path, "Hello from the fake server: Say hi")


def test_responses_answer_is_one_response_normalized(project: Path, server: FakeServer) -> None:
    path = write_http(project, responses_recording(ask(stream=False)))
    result = invoke(str(path), "--base-url", server.url)
    assert result.exit_code == 0, result.output
    stored = json.loads(path.read_bytes())["response"]
    assert stored["is_streaming"] is False
    assert stored["body"]["__type__"] == f"{RESPONSES}.response.Response"
    data = stored["body"]["__data__"]
    # Upstream `_normalize_response`: the top-level id and `created_at` (whatever its type).
    assert data["id"] == f"rec-{path.name[:12]}" and data["created_at"] == "1970-01-01T00:00:00.000000Z"
    assert data["output"][0]["content"][0]["text"] == "Hello from the fake server: Say hi"
    assert list(data)[:3] == ["id", "object", "created_at"]  # as sent
    assert_accepted(path)


def test_responses_incomplete_and_failed_streams_are_results_to_store(project: Path, server: FakeServer) -> None:
    server.fail("gpt-broken-model", "failed")
    short = write_http(project, responses_recording(ask("Tell a long story", max_output_tokens=2)))
    failed = write_http(project, responses_recording(ask(model="gpt-broken-model")))
    result = invoke(str(short), str(failed), "--base-url", server.url, "--json")
    assert result.exit_code == 0, result.output
    assert {json.loads(line)["status"] for line in result.stdout.splitlines()} == {"ok"}
    kind, data = events_of(short)[-1]
    assert kind == "response_incomplete_event.ResponseIncompleteEvent"
    assert data["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    assert sum(kind.startswith("response_text_delta") for kind, _data in events_of(short)) == 2
    kind, data = events_of(failed)[-1]
    assert kind == "response_failed_event.ResponseFailedEvent" and data["response"]["status"] == "failed"
    assert_accepted(short)


def test_responses_cut_stream_is_retried_then_fails_and_the_file_stays(project: Path, server: FakeServer) -> None:
    path = write_http(project, responses_recording(ask(model="gpt-cut")))
    before = path.read_bytes()
    server.fail("gpt-cut", "break")
    result = invoke(str(path), "--base-url", server.url, "--retries", "1", "--json")
    assert result.exit_code == 1
    line = json.loads(result.stdout)
    assert line["status"] == "failed" and line["attempts"] == 2
    assert "connection broke" in line["reason"] or "broke off" in line["reason"]
    # A stream that ends cleanly but before its terminal event broke off too.
    cut = [f"event: {kind}\ndata: {json.dumps({'type': kind, 'sequence_number': n})}\n" for n, kind in
           enumerate(["response.created", "response.in_progress", "response.output_text.delta"])]  # fmt: skip
    server.answer(ask(model="gpt-cut"), 200, cut)
    again = invoke(str(path), "--base-url", server.url, "--retries", "0", "--json")
    reason = json.loads(again.stdout)["reason"]
    assert again.exit_code == 1 and reason.startswith("the stream broke off after 3 events, before response.completed")
    assert path.read_bytes() == before


def test_responses_error_event_fails_the_file_at_once(project: Path, server: FakeServer) -> None:
    path = write_http(project, responses_recording(ask(model="gpt-erring")))
    before = path.read_bytes()
    server.fail("gpt-erring", "error-event")
    result = invoke(str(path), "--base-url", server.url, "--json")
    assert result.exit_code == 1
    line = json.loads(result.stdout)
    assert line["status"] == "failed" and line["attempts"] == 1  # not retried: the API said what went wrong
    assert "error event" in line["reason"] and "overloaded (injected)" in line["reason"]
    assert path.read_bytes() == before


def test_responses_event_of_an_unknown_type_fails_the_file(project: Path, server: FakeServer) -> None:
    path = write_http(project, responses_recording(ask()))
    before = path.read_bytes()
    kinds = ["response.created", "response.brand_new_thing", "response.completed"]
    response = {"id": "resp_1", "object": "response", "created_at": 1, "model": "m", "output": []}
    events = [{"type": kind, "sequence_number": n, "response": response} for n, kind in enumerate(kinds)]
    lines = [f"data: {json.dumps(event)}\n" for event in events]
    server.answer(ask(), 200, lines)
    result = invoke(str(path), "--base-url", server.url, "--json")
    line = json.loads(result.stdout)
    assert result.exit_code == 1 and line["status"] == "failed"
    assert "'response.brand_new_thing' that no openai SDK class is known for" in line["reason"]
    assert path.read_bytes() == before


def test_responses_type_table_is_the_sdk_union(samples: Path) -> None:
    """The table has the 59 members of the SDK's ResponseStreamEvent union, the terminal events among them, and
    gives the class path each stored envelope of the sample has."""
    from llm_fixtures.rerecording.responses_types import EVENT_CLASSES, INFERRED, TERMINAL, event_class

    assert len(EVENT_CLASSES) == 59 and len(INFERRED) == 26
    assert EVENT_CLASSES.keys() >= TERMINAL and all(path.startswith(RESPONSES + ".") for path in EVENT_CLASSES.values())
    (sample,) = (samples / "tests/integration/responses/recordings").glob("66327cb8*.json")
    stored = json.loads(sample.read_bytes())["response"]["body"]
    assert [event_class(item["__data__"]) for item in stored] == [item["__type__"] for item in stored]


def sse_of(events: list[dict[str, Any]]) -> list[str]:
    """Stored envelopes back on the wire: `event:`, `data:` and the empty line, per event."""
    lines = []
    for item in events:
        data = item["__data__"]
        lines += [f"event: {data['type']}", f"data: {json.dumps(data, separators=(',', ':'))}", ""]
    return lines


def test_sample_responses_stream_rerecorded_with_its_own_events_is_unchanged(
    project: Path, server: FakeServer, samples: Path
) -> None:
    sources = [p for p in sorted(samples.rglob("*.json")) if '"endpoint": "/v1/responses"' in p.read_text()]
    assert len(sources) == 1
    (source,) = sources
    copy = project / source.relative_to(samples)
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(source.read_bytes())
    raw = json.loads(source.read_bytes())
    server.answer(raw["request"]["body"], 200, sse_of(raw["response"]["body"]))
    result = invoke(str(copy), "--base-url", server.url, "--json")
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout)
    assert (line["status"], line["changed"]) == ("ok", False)
    assert copy.read_bytes() == source.read_bytes()
    assert_accepted(copy, "Neil Armstrong was the first person to walk on the Moon")


def test_corpus_responses_recordings_with_their_own_events(project: Path, server: FakeServer, corpus: Path) -> None:
    """The corpus's 9 `/v1/responses` recordings cannot come back byte for byte, each for a stated reason; their
    real event streams, served back, are re-recorded event for event, every type in the table."""
    listed = CliRunner().invoke(app, ["ls", "--endpoint", "/v1/responses", "--json", str(corpus)])
    paths = sorted(Path(json.loads(line)["path"]) for line in listed.stdout.splitlines())
    assert [path.name for path in paths] == [
        "responses_code_interpreter.json", "responses_function_call.json", "responses_mcp.json",
        "responses_openrouter_reasoning_text.json", "responses_resumed_stream.json", "responses_text.json",
        "responses_web_search.json", "responses_incomplete.json", "responses_truncated.json",
    ]  # fmt: skip
    from llm_fixtures.rerecording.calls import Unsupported

    jobs, expected = [], []
    for path in paths:
        raw = json.loads(path.read_bytes())
        request, body = raw["request"], raw["response"]["body"]
        if path.parent.name == "pydantic-ai":
            # VCR cassettes turned into recordings: the body is raw SSE lines (not envelopes), the request has
            # no `endpoint` (so it is not sent), and the resumed stream is a GET of a stored response.
            with pytest.raises(Unsupported, match="endpoint"):
                build_call(request)
            assert all(isinstance(line, str) for line in body)
            if request["method"] != "POST":
                continue
            wire = body
            data = [json.loads(line[6:]) for line in body if line.startswith("data: ") and line != "data: [DONE]"]
        else:
            # Hand-written: no URL, and every event typed by the union alias ResponseStreamEvent, which is no
            # class (the recorder writes the concrete event class).
            with pytest.raises(Unsupported, match="no URL"):
                build_call(request)
            assert {item["__type__"] for item in body} == {f"{RESPONSES}.response_stream_event.ResponseStreamEvent"}
            wire = sse_of(body)
            data = [item["__data__"] for item in body]
        payload = {**request["body"], "model": path.stem}  # one canned answer per file
        server.answer(payload, 200, wire)
        call = build_call(
            {"url": f"{server.url}/v1/responses", "endpoint": "/v1/responses", "body": payload, "headers": {}}
        )
        target = project / path.name
        target.write_bytes(path.read_bytes())
        jobs.append(HttpJob(target, path.name, {**raw, "request": {**request, "body": payload}}, call))
        expected.append(data)
    results = run_http(jobs, HttpOptions(retries=0))
    outcome = {result.path: (result.status, result.reason) for result in results}
    truncated = outcome.pop("responses_truncated.json")
    assert truncated[0] == "failed" and "broke off after 4 events, before response.completed" in str(truncated[1])
    assert set(outcome.values()) == {("ok", None)} and len(outcome) == 7
    for job, data in zip(jobs, expected, strict=True):
        if job.display in outcome:
            stored = json.loads(job.path.read_bytes())["response"]["body"]
            assert [item["__data__"] for item in stored] == data, job.display
            assert all(item["__type__"].startswith(RESPONSES + ".response_") for item in stored)


# --- hostile answers: junk, a slow drip, a key echoed back -----------------------------------------------

JUNK = [
    (None, "the answer is null, not an object"),
    ([1, 2, 3], "the answer is a list, not an object"),
    ("hello", "the answer is a string, not an object"),
    ({"choices": "abc"}, "id is missing"),
    ({"id": "x", "created": 1, "model": "m", "object": "chat.completion", "choices": "abc"}, "choices is a string"),
    ({"id": "x", "created": 1, "model": "m", "object": "o", "choices": [{"index": 0}]}, "choices[0].finish_reason"),
    (
        {"id": "x", "created": "1", "model": "m", "object": "o", "choices": []},
        "created is a string, not a number",
    ),
]


@pytest.mark.parametrize(("answer", "problem"), JUNK)
def test_a_junk_answer_is_never_stored(project: Path, server: FakeServer, answer: Any, problem: str) -> None:
    body = chat("junk", stream=False)
    path = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", body))
    before = path.read_bytes()
    server.answer(body, 200, answer, lines=False)
    result = invoke(str(path), "--base-url", server.url, "--json")
    assert result.exit_code == 1, result.output
    [line] = [json.loads(text) for text in result.stdout.splitlines()]
    assert line["status"] == "failed" and problem in line["reason"] and "the old file was kept" in line["reason"]
    assert path.read_bytes() == before


STREAM_JUNK = [
    (["data: null", "", "data: [DONE]", ""], "chunk 1 is null, not an object"),
    (['data: "hello"', "", "data: [DONE]", ""], "chunk 1 is a string"),
    (['data: {"id": "c", "object": "chunk", "created": 1, "model": "m", "choices": [{}]}', "", "data: [DONE]", ""],
     "chunk 1.choices[0].index is missing"),
    (["data: [DONE]", ""], "the stream held no chunk"),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "problem"), STREAM_JUNK)
def test_a_junk_stream_is_never_stored(project: Path, server: FakeServer, lines: list[str], problem: str) -> None:
    body = chat("junk-stream")
    path = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", body, streaming=True))
    before = path.read_bytes()
    server.answer(body, 200, lines)
    result = invoke(str(path), "--base-url", server.url, "--json")
    assert result.exit_code == 1
    line = json.loads(result.stdout)
    assert line["status"] == "failed" and problem in line["reason"]
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"type": "message"}, "id is missing"),
        ({"id": "m", "type": "message", "role": "assistant", "content": "hi", "model": "c", "usage": {}}, "content"),
        ([1], "the answer is a list"),
    ],
)
def test_a_junk_passthrough_answer_is_never_stored(
    project: Path, server: FakeServer, answer: Any, problem: str
) -> None:
    payload = messages("junk please")
    path = write_http(project, http_recording(ANTHROPIC, payload))
    before = path.read_bytes()
    server.answer(payload, 200, answer, lines=False)
    result = invoke(str(path), "--base-url", server.url, "--json")
    assert result.exit_code == 1
    line = json.loads(result.stdout)
    assert line["status"] == "failed" and problem in line["reason"]
    assert path.read_bytes() == before


def test_a_slow_drip_is_cut_by_the_deadline(project: Path) -> None:
    """A server that sends a piece just before every --timeout would hold a job forever without --deadline."""
    with FakeServer(chunks=8, delay=0.3) as dripping:  # 8 pieces, 0.3 s apart: never a gap of --timeout
        path = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", chat(), streaming=True))
        before = path.read_bytes()
        started = time.monotonic()
        result = invoke(str(path), "--base-url", dripping.url, "--timeout", "1", "--deadline", "0.5", "--retries", "0")
        took = time.monotonic() - started
    assert result.exit_code == 1
    assert "no full answer within 0.5 s (--deadline)" in result.stdout
    assert took < 3 and path.read_bytes() == before


KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2


@pytest.mark.parametrize(
    ("status", "echo"),
    [
        (400, {"error": {"message": f"Incorrect API key provided: {KEY}"}}),
        (500, {"error": {"message": f"upstream said Bearer {KEY} is wrong"}}),
        (400, {"error": {"message": "another secret: AKIAABCDEFGHIJKLMNOP"}}),
    ],
)
def test_a_failure_line_never_prints_a_secret(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch, status: int, echo: Any
) -> None:
    monkeypatch.setenv("MY_KEY", KEY)
    body = chat("echo", stream=False)
    path = write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", body))
    server.answer(body, status, echo, lines=False)
    for args in (["--json"], []):
        result = invoke(str(path), "--base-url", server.url, "--api-key-env", "MY_KEY", "--retries", "0", *args)
        assert result.exit_code == 1
        assert KEY not in result.output and "AKIAABCDEFGHIJKLMNOP" not in result.output
        assert f"HTTP {status}" in result.output and "chars)" in result.output  # masked as `check` masks


def test_an_answer_holding_the_key_sent_is_never_stored(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anthropic's 4xx answers are stored as the recorder stores them, so one that echoes the key must not be."""
    monkeypatch.setenv("MY_KEY", KEY)
    payload = messages("echo my key")
    path = write_http(project, http_recording(ANTHROPIC, payload))
    before = path.read_bytes()
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": f"bad request from {KEY}"}}
    server.answer(payload, 400, error, lines=False)
    result = invoke(str(path), "--base-url", server.url, "--api-key-env", "MY_KEY", "--json")
    assert result.exit_code == 1
    line = json.loads(result.stdout)
    assert line["status"] == "failed" and "holds the API key that was sent" in line["reason"]
    assert KEY not in result.output and path.read_bytes() == before


def test_unknown_token_counts_are_a_dash_and_anthropic_stream_usage_is_read(project: Path) -> None:
    stream = http_recording(ANTHROPIC, messages(stream=True))
    start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 19, "output_tokens": 1}}}
    delta = {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9}}
    stream["response"]["body"] = [
        "event: message_start", f"data: {json.dumps(start)}", "",
        "event: message_delta", f"data: {json.dumps(delta)}", "",
        "event: message_stop", 'data: {"type":"message_stop"}', "",
    ]  # fmt: skip
    write_http(project, stream)
    write(project, recording("http://localhost:8000/v1", "/v1/chat/completions", chat("no-usage", stream=False)))
    result = invoke("--all", "--dry-run", "--json")
    items = {item["model"]: item for item in map(json.loads, result.stdout.splitlines())}
    assert items["claude-haiku-4-5"]["usage"] == {"prompt_tokens": 19, "completion_tokens": 9, "total_tokens": 28}
    assert items["no-usage"]["usage"] is None
    human = invoke("--all", "--dry-run")
    rows = {line.split()[0].rsplit("/", 1)[-1][:8]: line.split()[-1] for line in human.stdout.splitlines()[1:-1]}
    assert sorted(rows.values()) == ["-", "28"]  # never a 0 for what no file says
    assert "28 tokens last time: 19 prompt + 9 completion (known for 1 of 2)" in human.stdout
