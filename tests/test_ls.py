"""`fixtures ls`: the listing contract, filters, grouping, bad input, and the real corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import builders
from conftest import REPO, corpus_files
from llm_fixtures.app import app

REQUIRED_KEYS = {
    "path",
    "hash",
    "kind",
    "test_id",
    "endpoint",
    "model",
    "provider",
    "streaming",
    "chunks",
    "bytes",
    "error",
}


def ls_json(runner: CliRunner, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["ls", "--json", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def write_recording(
    path: Path,
    test_id: str | None = "tests/test_a.py::test_one",
    *,
    stream: bool = False,
    endpoint: str = "/v1/chat/completions",
    model: str = "gpt-4o",
) -> Path:
    body: Any = [{"__type__": "x.Chunk", "__data__": {}}] * 3 if stream else {"__type__": "x.Done", "__data__": {}}
    request = builders.sdk_request(f"https://api.openai.com/v1{endpoint}", endpoint, {"model": model, "stream": stream})
    return builders.write_recording(path, builders.recording(request, body, streaming=stream, test_id=test_id))


def test_every_corpus_recording_is_listed_as_its_file_says(runner: CliRunner, corpus: Path) -> None:
    rows = {Path(row["path"]).resolve(): row for row in ls_json(runner, str(corpus))}
    files = corpus_files()
    assert set(rows) == {path.resolve() for path in files}
    for path in files:
        raw = json.loads(path.read_bytes())
        row = rows[path.resolve()]
        assert set(row) >= REQUIRED_KEYS
        request, response = raw["request"], raw["response"]
        assert row["test_id"] == raw.get("test_id", request.get("test_id"))
        assert row["streaming"] is response["is_streaming"]
        assert row["bytes"] == path.stat().st_size
        if "endpoint" in request:
            assert row["endpoint"] == request["endpoint"]
            expected_model = request.get("model")
            body = request.get("body")
            if not expected_model and isinstance(body, dict) and isinstance(body.get("model"), str):
                expected_model = body["model"]
            assert row["model"] == expected_model
        if "payload" in request:
            assert request["url"].endswith(row["endpoint"])
        if "tool_name" in request:
            assert row["endpoint"].endswith(request["tool_name"])
        if response["is_streaming"] and isinstance(response["body"], list):
            assert row["chunks"] == len(response["body"])


def test_corpus_kinds_and_providers(runner: CliRunner, corpus: Path) -> None:
    rows = ls_json(runner, str(corpus / "llama-stack"))
    assert {row["kind"] for row in rows} == {"inference", "http", "tool", "file-processor"}
    providers = {row["provider"] for row in rows}
    assert {
        "openai",
        "azure",
        "ollama",
        "vllm",
        "bedrock",
        "watsonx",
        "vertexai",
        "gemini",
        "llama.cpp",
        "tavily",
    } <= providers
    models_lists = [row for row in rows if row["model_list"]]
    assert models_lists and all(row["endpoint"] == "/v1/models" for row in models_lists)


def test_filters_sort_and_limit(runner: CliRunner, tmp_path: Path) -> None:
    write_recording(tmp_path / "recordings" / "a.json", "tests/test_a.py::test_one[gpt]", stream=True)
    write_recording(tmp_path / "recordings" / "b.json", "tests/test_a.py::test_two", model="llama3.2:3b")
    write_recording(tmp_path / "recordings" / "c.json", "tests/test_b.py::test_three", endpoint="/v1/embeddings")
    root = str(tmp_path / "recordings")
    assert [r["hash"] for r in ls_json(runner, root, "--stream")] == ["a"]
    assert [r["hash"] for r in ls_json(runner, root, "--no-stream")] == ["b", "c"]
    assert [r["hash"] for r in ls_json(runner, root, "--test", "test_a.py")] == ["a", "b"]
    assert [r["hash"] for r in ls_json(runner, root, "--test", "*::test_one[gpt]")] == ["a"]
    assert [r["hash"] for r in ls_json(runner, root, "--test", "*test_t*")] == ["b", "c"]
    assert [r["hash"] for r in ls_json(runner, root, "--model", "LLAMA")] == ["b"]
    assert [r["hash"] for r in ls_json(runner, root, "--endpoint", "embeddings")] == ["c"]
    assert [r["hash"] for r in ls_json(runner, root, "--provider", "openai", "--sort", "chunks", "--limit", "1")] == [
        "a"
    ]
    assert [r["hash"] for r in ls_json(runner, root, "--sort", "test", "--reverse")] == ["c", "b", "a"]
    assert ls_json(runner, root, "--errors") == []
    assert ls_json(runner, root, "--kind", "tool") == []


def test_group_by_counts_and_bytes(runner: CliRunner, tmp_path: Path) -> None:
    a = write_recording(tmp_path / "r" / "a.json", "tests/test_a.py::test_one")
    b = write_recording(tmp_path / "r" / "b.json", "tests/test_a.py::test_two")
    c = write_recording(tmp_path / "r" / "c.json", "tests/test_b.py::test_three")
    groups = ls_json(runner, str(tmp_path / "r"), "--group-by", "test-file")
    sizes = {p.name: p.stat().st_size for p in (a, b, c)}
    assert {(g["key"], g["count"], g["bytes"]) for g in groups} == {
        ("tests/test_a.py", 2, sizes["a.json"] + sizes["b.json"]),
        ("tests/test_b.py", 1, sizes["c.json"]),
    }
    table = runner.invoke(app, ["ls", str(tmp_path / "r"), "--group-by", "test-file"])
    assert "tests/test_a.py" in table.stdout and table.exit_code == 0


def test_table_shows_short_hash_test_endpoint_model_stream_and_size(runner: CliRunner, tmp_path: Path) -> None:
    write_recording(
        tmp_path / "r" / f"{'ab' * 32}.json", "tests/integration/inference/test_chat.py::test_x[m]", stream=True
    )
    result = runner.invoke(app, ["ls", str(tmp_path / "r")], catch_exceptions=False)
    assert result.exit_code == 0
    row = result.stdout.splitlines()[1]
    assert "abababababab " in row and "inference/test_chat.py::test_x[m]" in row
    assert "/v1/chat/completions" in row and "gpt-4o" in row and "yes 3" in row
    assert "1 recording, 634 B" in result.stderr


def test_user_data_is_never_markup(runner: CliRunner, tmp_path: Path) -> None:
    write_recording(tmp_path / "r" / "a.json", "tests/t.py::test[bold red]x[/]")
    result = runner.invoke(app, ["ls", str(tmp_path / "r")], catch_exceptions=False)
    assert "test[bold red]x[/]" in result.stdout


def test_bad_files_are_reported_one_line_each_and_the_rest_listed(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "recordings"
    write_recording(folder / "good.json")
    (folder / "invalid.json").write_text("{not json")
    (folder / "truncated.json").write_text(json.dumps({"request": {"a": 1}, "response": {}})[:-7])
    (folder / "empty.json").write_text("")
    (folder / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "shape.json").write_text('{"request": {"method": "POST"}}')
    (folder / "list.json").write_text("[1, 2, 3]")
    (folder / "x.json").mkdir()
    (folder / "loop.json").symlink_to(folder / "loop.json")
    unreadable = write_recording(folder / "secret.json")
    unreadable.chmod(0)
    result = runner.invoke(app, ["ls", "--json", str(folder)], catch_exceptions=False)
    assert result.exit_code == 1
    assert [json.loads(line)["hash"] for line in result.stdout.splitlines()] == (
        ["good"] if os.geteuid() != 0 else ["good", "secret"]
    )
    lines = result.stderr.splitlines()
    expected = {
        "invalid.json": "invalid JSON",
        "truncated.json": "truncated JSON",
        "empty.json": "empty file",
        "binary.json": "binary file",
        "shape.json": "no 'response' key",
        "list.json": "top level is a JSON list",
        "x.json": "is a directory",
        "loop.json": "symbolic link loop",
    }
    if os.geteuid() != 0:
        expected["secret.json"] = "permission denied"
    for name, reason in expected.items():
        matching = [line for line in lines if line.startswith(str(folder / name) + ":")]
        assert len(matching) == 1 and reason in matching[0], (name, lines)
    assert "Traceback" not in result.stderr


def test_an_sse_capture_is_not_a_recording(runner: CliRunner, tmp_path: Path) -> None:
    capture = tmp_path / "recordings" / "stream.sse"
    capture.parent.mkdir()
    capture.write_text('data: {"choices": []}\n\ndata: [DONE]\n\n')
    write_recording(tmp_path / "recordings" / "good.json")
    in_folder = runner.invoke(app, ["ls", "--json", str(capture.parent)])
    assert in_folder.exit_code == 0 and len(in_folder.stdout.splitlines()) == 1  # only .json files are recordings
    named = runner.invoke(app, ["ls", str(capture)])
    assert named.exit_code == 1
    assert f"{capture}: a raw SSE capture, not a recording file" in named.stderr


def test_missing_path_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ls", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope'}: no such file or directory\n"


def test_bad_kind_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ls", str(tmp_path), "--kind", "nope"])
    assert result.exit_code == 2


def test_discovery_finds_recordings_folders_and_skips_venvs(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    write_recording(tmp_path / "tests" / "integration" / "a" / "recordings" / "one.json")
    write_recording(tmp_path / "tests" / "integration" / "b" / "recordings" / "two.json")
    write_recording(tmp_path / ".venv" / "lib" / "recordings" / "venv.json")
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("")
    write_recording(tmp_path / "env2" / "recordings" / "other_venv.json")
    (tmp_path / "env2" / "pyvenv.cfg").write_text("")
    write_recording(tmp_path / "node_modules" / "recordings" / "node.json")
    write_recording(tmp_path / ".git" / "recordings" / "git.json")
    (tmp_path / "tests" / "data.json").write_text("{}")
    monkeypatch.chdir(tmp_path / "tests")
    assert sorted(row["hash"] for row in ls_json(runner)) == ["one", "two"]


def test_roots_from_pyproject(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.fixtures]\nroots = ['fixtures']\n")
    write_recording(tmp_path / "fixtures" / "one.json")
    write_recording(tmp_path / "recordings" / "ignored.json")
    monkeypatch.chdir(tmp_path)
    assert [row["hash"] for row in ls_json(runner)] == ["one"]


def test_a_typo_in_the_settings_is_named(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.fixtures]\nrots = ['fixtures']\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ls"])
    assert result.exit_code == 2
    assert "rots" in result.stderr and result.stderr.startswith("error: ")


def test_cache_is_used_and_never_stale(runner: CliRunner, tmp_path: Path, cache_home: Path) -> None:
    folder = tmp_path / "r"
    path = write_recording(folder / "a.json", model="first")
    assert ls_json(runner, str(folder))[0]["model"] == "first"
    cache_files = list((cache_home / "llm-fixtures").glob("facts-*.json"))
    assert len(cache_files) == 1
    write_recording(path, model="second-and-longer")
    assert ls_json(runner, str(folder))[0]["model"] == "second-and-longer"
    cache_files[0].write_text("garbage")
    assert ls_json(runner, str(folder))[0]["model"] == "second-and-longer"
    shutil.rmtree(cache_files[0].parent)
    assert ls_json(runner, str(folder))[0]["model"] == "second-and-longer"


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("fixtures ")


def test_start_up_imports_nothing_heavy() -> None:
    code = (
        "import sys, llm_fixtures.app; "
        "print(sorted(m for m in ('pydantic', 'rich', 'deepdiff', 'httpx') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_installed_entry_point_lists_the_samples() -> None:
    exe = shutil.which("fixtures", path=str(Path(sys.executable).parent)) or shutil.which("fixtures")
    assert exe is not None, "the fixtures console script is not installed"
    done = subprocess.run([exe, "ls", "--json"], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) >= 14
    module = subprocess.run(
        [sys.executable, "-m", "llm_fixtures", "ls", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.stdout == done.stdout
