"""`fixtures diff` end to end: real corpus recordings perturbed in known ways inside real git repositories."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from builders import write_recording
from diffkit import (
    CHURN_STREAM,
    DELETED,
    NS_TOOLS,
    RECHUNK_STREAM,
    REQUEST_STREAM,
    SUITE,
    TEXT_STREAM,
    TOOL_STREAM,
    UNTOUCHED,
    churn,
    commit_all,
    copy_corpus_files,
    edit_message_arguments,
    edit_request,
    edit_stream_arguments,
    edit_text,
    git,
    init_repo,
    read,
    rechunk,
    stream_arguments,
)
from llm_fixtures.app import app
from llm_fixtures.hashing import request_key_name

ADDED = f"{SUITE}/added-recording.json"
# The re-recorded request gets the name the recorder computes for it (the rename a re-record makes).
REQUEST_RENAMED = f"{SUITE}/bc3c50ecbba55a60552a949d0ee18a04c37f71b9de7c88391153aca0e309ca6a.json"


@contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def perturb(repo: Path) -> None:
    """Every kind of change a re-record makes, one per file."""
    text = read(repo / TEXT_STREAM)
    write_recording(repo / TEXT_STREAM, edit_text(text, "engineering", "marketing"))
    tool = read(repo / TOOL_STREAM)
    first_key = next(iter(json.loads(stream_arguments(tool))))
    write_recording(repo / TOOL_STREAM, edit_stream_arguments(tool, first_key, "mercury"))
    write_recording(repo / CHURN_STREAM, churn(read(repo / CHURN_STREAM)))
    write_recording(repo / RECHUNK_STREAM, rechunk(read(repo / RECHUNK_STREAM)))
    request = read(repo / REQUEST_STREAM)
    (repo / REQUEST_STREAM).unlink()
    edited = edit_request(request, " Answer in French.")
    assert request_key_name(edited) == REQUEST_RENAMED.rsplit("/", 1)[1]
    write_recording(repo / REQUEST_RENAMED, edited)
    write_recording(repo / NS_TOOLS, edit_message_arguments(read(repo / NS_TOOLS), "data", [1, 2]))
    (repo / DELETED).unlink()
    extra = read(repo / UNTOUCHED)
    extra["test_id"] = "tests/integration/responses/test_new.py::test_brand_new"
    write_recording(repo / ADDED, extra)


EXPECTED: dict[tuple[str | None, str | None], tuple[str, list[str]]] = {
    (TEXT_STREAM, TEXT_STREAM): ("changed", ["content"]),
    (TOOL_STREAM, TOOL_STREAM): ("changed", ["tool_calls"]),
    (CHURN_STREAM, CHURN_STREAM): ("changed", ["volatile"]),
    (RECHUNK_STREAM, RECHUNK_STREAM): ("changed", ["chunking"]),
    (REQUEST_STREAM, REQUEST_RENAMED): ("changed", ["request"]),
    (DELETED, None): ("removed", []),
    (None, ADDED): ("added", []),
    (UNTOUCHED, UNTOUCHED): ("unchanged", []),
    (NS_TOOLS, NS_TOOLS): ("changed", ["volatile", "tool_calls"]),
}


@pytest.fixture
def repo(corpus: Path, tmp_path: Path) -> Path:
    root = tmp_path / "project"
    init_repo(root)
    copy_corpus_files(corpus, root)
    commit_all(root, "recordings as they were")
    return root


def run(runner: CliRunner, repo: Path, *args: str) -> Any:
    with inside(repo):
        return runner.invoke(app, ["diff", *args], catch_exceptions=False)


def lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def by_pair(rows: list[dict[str, Any]]) -> dict[tuple[str | None, str | None], tuple[str, list[str]]]:
    return {(row["old"], row["new"]): (row["status"], row["changes"]) for row in rows}


def test_working_tree_against_head_reports_each_perturbation(runner: CliRunner, repo: Path) -> None:
    perturb(repo)
    result = run(runner, repo, "--git", "HEAD", "--json")
    assert result.exit_code == 1, result.output
    rows = lines(result.stdout)
    assert by_pair(rows) == EXPECTED
    keys = {"old", "new", "test_id", "endpoint", "status", "paired_by", "changes", "details"}
    assert all(set(row) == keys for row in rows)
    tool = next(row for row in rows if row["new"] == TOOL_STREAM)
    (call,) = tool["details"]["tool_calls"]
    assert call["arguments"][0]["new"] == "mercury"
    assert call["arguments"][0]["path"].startswith("$.")
    renamed = next(row for row in rows if row["new"] == REQUEST_RENAMED)
    assert renamed["paired_by"] == "test"
    assert [c["path"] for c in renamed["details"]["request"]] == ["$.body.messages[0].content"]
    (message_call,) = next(row for row in rows if row["new"] == NS_TOOLS)["details"]["tool_calls"]
    assert message_call["arguments"] == [{"path": "$.data", "old": "[1, 2, 3, 4, 5]", "new": [1, 2]}]
    unchanged = next(row for row in rows if row["new"] == UNTOUCHED)
    assert unchanged["test_id"] and unchanged["endpoint"] == "/v1/chat/completions"


def test_two_commits_compare_the_same_way_as_the_working_tree(runner: CliRunner, repo: Path) -> None:
    perturb(repo)
    commit_all(repo, "re-recorded")
    result = run(runner, repo, "--git", "HEAD~1..HEAD", "--json")
    assert result.exit_code == 1
    assert by_pair(lines(result.stdout)) == EXPECTED
    # the working tree is clean now: nothing differs from HEAD
    assert run(runner, repo, "--git", "HEAD").exit_code == 0


def test_paths_narrow_the_comparison(runner: CliRunner, repo: Path) -> None:
    perturb(repo)
    result = run(runner, repo, "--git", "HEAD", "--json", TEXT_STREAM, DELETED)
    assert by_pair(lines(result.stdout)) == {
        (TEXT_STREAM, TEXT_STREAM): ("changed", ["content"]),
        (DELETED, None): ("removed", []),
    }


def test_noise_only_exits_0_unless_strict(runner: CliRunner, repo: Path) -> None:
    write_recording(repo / CHURN_STREAM, churn(read(repo / CHURN_STREAM)))
    write_recording(repo / RECHUNK_STREAM, rechunk(read(repo / RECHUNK_STREAM)))
    result = run(runner, repo, "--git", "HEAD")
    assert result.exit_code == 0, result.output
    assert "1 chunking only, 1 volatile only" in result.stdout
    assert "--show-all" in result.stdout
    assert CHURN_STREAM not in result.stdout
    assert run(runner, repo, "--git", "HEAD", "--strict").exit_code == 1
    shown = run(runner, repo, "--git", "HEAD", "--show-all")
    assert CHURN_STREAM in shown.stdout and RECHUNK_STREAM in shown.stdout


def test_human_output_counts_then_details(runner: CliRunner, repo: Path) -> None:
    perturb(repo)
    result = run(runner, repo, "--git", "HEAD")
    assert result.exit_code == 1
    out = result.stdout
    assert out.index("By class:") < out.index("By test:") < out.index("changed  ")
    assert "[-engineering-]{+marketing+}" in out
    assert '"mercury"' in out
    assert "Answer in French." in out
    assert "1 pairs chunking only" in out and "1 pairs volatile only" in out
    by_test = out[out.index("By test:") : out.index("changed  ")]
    assert "test_response_non_streaming_mcp_tool" in by_test and "1 changed [tool_calls]" in by_test
    assert "tests/integration/responses/test_new.py::test_brand_new: 1 added" in by_test
    assert result.stderr == ""


def test_markdown_summary(runner: CliRunner, repo: Path) -> None:
    perturb(repo)
    result = run(runner, repo, "--git", "HEAD", "--format", "markdown")
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith("### Recording changes")
    assert "| recording | status | paired by | changes |" in out
    assert out.count("<details>") == out.count("</details>") >= 3
    assert "```diff" in out and "marketing" in out
    assert "_2 moved, volatile-only or chunking-only pairs not listed._" in out


def test_markdown_is_capped(runner: CliRunner, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_fixtures.render.diff as render

    perturb(repo)
    monkeypatch.setattr(render, "MARKDOWN_LIMIT", 1500)
    out = run(runner, repo, "--git", "HEAD", "--format", "markdown").stdout
    assert "Cut to fit a comment" in out
    assert len(out) < 2500


def test_a_file_that_does_not_parse_is_an_error_pair_and_the_rest_is_compared(runner: CliRunner, repo: Path) -> None:
    perturb(repo)
    (repo / UNTOUCHED).write_text('{"request": {"url": ')
    result = run(runner, repo, "--git", "HEAD", "--json")
    assert result.exit_code == 1
    rows = by_pair(lines(result.stdout))
    assert rows[(UNTOUCHED, UNTOUCHED)] == ("error", [])
    assert rows[(TEXT_STREAM, TEXT_STREAM)] == ("changed", ["content"])
    assert "truncated JSON" in result.stderr


def test_unknown_revision_is_one_line_exit_2(runner: CliRunner, repo: Path) -> None:
    result = run(runner, repo, "--git", "no-such-branch")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: unknown revision 'no-such-branch'")
    assert result.stderr.count("\n") == 1


def test_not_a_git_repository_is_one_line_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    result = run(runner, folder, "--git", "HEAD")
    assert result.exit_code == 2
    assert "not in a git repository" in result.stderr
    assert result.stderr.count("\n") == 1


def test_two_folders(runner: CliRunner, corpus: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    copy_corpus_files(corpus, old)
    copy_corpus_files(corpus, new)
    perturb(new)
    result = run(runner, tmp_path, "old", "new", "--json")
    assert result.exit_code == 1
    rows = {(r["old"], r["new"]): (r["status"], r["changes"]) for r in lines(result.stdout)}
    expected = {(f"old/{a}" if a else None, f"new/{b}" if b else None): value for (a, b), value in EXPECTED.items()}
    assert rows == expected


def test_two_files_whatever_their_names(runner: CliRunner, corpus: Path, tmp_path: Path) -> None:
    original = corpus / "llama-stack" / TEXT_STREAM
    edited_file = tmp_path / "edited.json"
    write_recording(edited_file, edit_text(read(original), "engineering", "marketing"))
    result = run(runner, tmp_path, str(original), "edited.json", "--json")
    assert result.exit_code == 1
    (row,) = lines(result.stdout)
    assert (row["status"], row["changes"], row["new"]) == ("changed", ["content"], "edited.json")
    same = run(runner, tmp_path, str(original), str(original))
    assert same.exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give two files or two folders"),
        (["a.json"], "give two files or two folders"),
        (["missing.json", "other.json"], "no such file or directory"),
    ],
)
def test_bad_usage_exit_2(runner: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    result = run(runner, tmp_path, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_volatile_fields_from_pyproject(runner: CliRunner, repo: Path) -> None:
    raw = read(repo / UNTOUCHED)
    raw["response"]["body"][0]["__data__"]["x_trace"] = "abc"
    write_recording(repo / UNTOUCHED, raw)
    assert lines(run(runner, repo, "--git", "HEAD", "--json", UNTOUCHED).stdout)[0]["changes"] == ["chunking"]
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.fixtures.diff]\nvolatile = ["x_trace"]\n')
    assert lines(run(runner, repo, "--git", "HEAD", "--json", UNTOUCHED).stdout)[0]["changes"] == ["volatile"]


def test_worker_processes_give_the_same_reports(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_fixtures.diffing.running as comparing
    from llm_fixtures.config import load_project
    from llm_fixtures.diffing.sides import git_sides, volatility_of

    perturb(repo)
    commit_all(repo, "re-recorded")
    project = load_project(repo)
    volatility = volatility_of(project)
    old, new = git_sides("HEAD~1..HEAD", [], project, repo)
    serial = comparing.diff_trees(old, new, volatility, jobs=1).reports
    monkeypatch.setattr(comparing, "PARALLEL_THRESHOLD", 1)
    parallel = comparing.diff_trees(old, new, volatility, jobs=2).reports
    assert [r.to_json() for r in parallel] == [r.to_json() for r in serial]
    assert {(r.status, tuple(r.changes)) for r in parallel} >= {("changed", ("content",)), ("removed", ())}


def test_identical_blobs_sniffed_from_clean_working_copies_give_the_same_reports(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llm_fixtures.diffing.running as comparing
    from llm_fixtures.config import load_project
    from llm_fixtures.diffing.sides import git_sides, volatility_of

    perturb(repo)
    commit_all(repo, "re-recorded")
    project = load_project(repo)
    volatility = volatility_of(project)
    old, new = git_sides("HEAD~1..HEAD", [], project, repo)
    from_blobs = comparing.diff_trees(old, new, volatility, identify_unchanged=True, jobs=1).reports
    monkeypatch.setattr(comparing, "CLEAN_COPIES_THRESHOLD", 1)
    read: list[str] = []
    from llm_fixtures.store import read_bytes

    def read_file(path: Path | str) -> bytes:
        read.append(str(path))
        return read_bytes(path)

    import llm_fixtures.diffing.loading as loading

    monkeypatch.setattr(loading, "read_bytes", read_file)
    from_files = comparing.diff_trees(old, new, volatility, identify_unchanged=True, jobs=1).reports
    assert read  # the unchanged pairs were read from the working tree
    assert [r.to_json() for r in from_files] == [r.to_json() for r in from_blobs]
    assert any(r.status == "unchanged" and r.test_id for r in from_files)


def test_list_volatile_shows_built_in_and_configured_fields(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fixtures.diff]\nvolatile = ["x_trace", "response.body.*.__data__.seed"]\n'
    )
    result = run(runner, tmp_path, "--list-volatile")
    assert result.exit_code == 0
    fields = result.stdout.split()
    for name in ("obfuscation", "system_fingerprint", "id", "x_trace", "response.body.*.__data__.seed"):
        assert name in fields
    assert "request.provider_metadata.openai_sdk_version" in fields


def test_a_new_file_that_does_not_parse_is_an_error_with_no_old_side(runner: CliRunner, repo: Path) -> None:
    (repo / SUITE / "broken.json").write_text("[1, 2, 3]\n")
    result = run(runner, repo, "--git", "HEAD", "--json")
    assert result.exit_code == 1
    (row,) = [r for r in lines(result.stdout) if r["status"] != "unchanged"]
    assert (row["old"], row["new"], row["status"]) == (None, f"{SUITE}/broken.json", "error")
    assert "not a recording" in row["details"]["problem"]
    assert result.stderr.startswith("error: ")


def test_sniffed_test_id_and_endpoint_agree_with_the_facts(corpus: Path) -> None:
    from llm_fixtures.diffing.loading import _UPSTREAM_HEAD, _sniff_layout, parse_recording, sniff
    from llm_fixtures.errors import BadRecording

    read_fast = read_by_layout = 0
    for path in sorted(corpus.rglob("*.json")):
        data = path.read_bytes()
        try:
            parsed = parse_recording(data, str(path))
        except BadRecording:
            assert sniff(data, str(path)) == (None, None)
            continue
        assert sniff(data, str(path)) == (parsed.facts.test_id, parsed.facts.endpoint), path
        read_fast += _UPSTREAM_HEAD.match(data) is not None
        layout = _sniff_layout(data, str(path))
        assert layout is None or layout == (parsed.facts.test_id, parsed.facts.endpoint), path
        read_by_layout += layout is not None and _UPSTREAM_HEAD.match(data) is None
    assert read_fast > 100
    assert read_by_layout > 50


def test_from_a_subfolder_a_folder_narrows_and_paths_are_relative_to_it(runner: CliRunner, repo: Path) -> None:
    perturb(repo)
    result = run(runner, repo / "tests" / "integration", "--git", "HEAD", "--json", "responses")
    prefix = "tests/integration/"
    expected = {
        (a and a.removeprefix(prefix), b and b.removeprefix(prefix)): value
        for (a, b), value in EXPECTED.items()
        if (a or b or "").startswith(f"{prefix}responses/")
    }
    assert by_pair(lines(result.stdout)) == expected
    assert result.exit_code == 1


def test_git_diff_with_roots_set_in_the_project(runner: CliRunner, repo: Path) -> None:
    """`[tool.fixtures] roots` (as this repository sets) narrows the sides; it never meets the paths given."""
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.fixtures]\nroots = ["tests"]\n'
    )
    commit_all(repo, "roots")
    perturb(repo)
    result = run(runner, repo, "--git", "HEAD", "--json")
    assert result.exit_code == 1, result.output
    found = by_pair(lines(result.stdout))
    assert found[(TEXT_STREAM, TEXT_STREAM)] == ("changed", ["content"])
    narrowed = run(runner, repo, "--git", "HEAD", "--json", SUITE)
    assert {row["new"] or row["old"] for row in lines(narrowed.stdout)} <= {
        key for pair in found for key in pair if key and key.startswith(SUITE)
    }


def test_a_git_mv_to_a_name_replay_cannot_find_is_meaningful(runner: CliRunner, repo: Path) -> None:
    from llm_fixtures.hashing import request_key_name

    found = request_key_name(read(repo / NS_TOOLS))
    assert found == Path(NS_TOOLS).name  # the corpus file is where replay looks
    wrong = str(Path(NS_TOOLS).with_name("0" * 64 + ".json"))
    git(repo, "mv", NS_TOOLS, wrong)
    result = run(runner, repo, "--git", "HEAD", "--json")
    assert result.exit_code == 1
    (row,) = [row for row in lines(result.stdout) if row["new"] == wrong]
    assert (row["old"], row["status"], row["paired_by"], row["changes"]) == (NS_TOOLS, "moved", "moved", ["name"])
    assert row["details"]["name"]["expected"] == found
    human = run(runner, repo, "--git", "HEAD").stdout
    assert f"replay looks for {found}" in human


def test_the_same_recording_moved_to_another_folder_and_test_is_one_moved_pair(runner: CliRunner, repo: Path) -> None:
    from llm_fixtures.hashing import request_key_name

    raw = read(repo / UNTOUCHED)
    raw["test_id"] = "tests/integration/agents/test_agents.py::test_moved[txt=openai/gpt-4o]"
    # where the recorder puts it for its new test (the test id is part of the name), ids re-recorded
    target = repo / "tests/integration/agents/recordings" / str(request_key_name(raw))
    write_recording(target, churn(raw))
    (repo / UNTOUCHED).unlink()
    result = run(runner, repo, "--git", "HEAD", "--json")
    assert result.exit_code == 0, result.output  # the same answer, where replay finds it: nothing meaningful
    (row,) = [r for r in lines(result.stdout) if r["status"] != "unchanged"]
    assert (row["status"], row["paired_by"], row["old"]) == ("moved", "moved", UNTOUCHED)
    assert row["changes"] == ["volatile"]
    assert row["details"]["moved"]["new"].endswith("test_moved[txt=openai/gpt-4o]")
    human = run(runner, repo, "--git", "HEAD")
    assert "1 moved" in human.stdout and "1 pairs moved, the same recording elsewhere" in human.stdout


def test_a_renamed_parameter_is_one_changed_pair(runner: CliRunner, repo: Path) -> None:
    from llm_fixtures.hashing import request_key_name

    raw = read(repo / NS_TOOLS)
    old_id = raw["test_id"]
    raw["test_id"] = old_id.replace("]", "-1:0]")
    model = raw["request"]["model"] + "-1:0"
    raw["request"]["model"] = raw["request"]["body"]["model"] = model
    raw["response"]["body"]["__data__"]["choices"][0]["message"]["content"] = "Reasoning moved here."
    renamed = str(Path(NS_TOOLS).with_name(str(request_key_name(raw))))
    (repo / NS_TOOLS).unlink()
    write_recording(repo / renamed, raw)
    result = run(runner, repo, "--git", "HEAD", "--json")
    (row,) = [row for row in lines(result.stdout) if row["new"] == renamed]
    assert (row["old"], row["status"], row["paired_by"]) == (NS_TOOLS, "changed", "parameters")
    assert "content" in row["changes"] and "request" in row["changes"]
    assert "(paired by parameters)" in run(runner, repo, "--git", "HEAD").stdout


HOSTILE_BODIES: dict[str, bytes] = {
    "deep list": b'{"request": {"method": "POST", "url": "http://x/v1/chat/completions", "body": {"messages": '
    + b"[" * 900
    + b"]" * 900
    + b'}, "endpoint": "/v1/chat/completions", "model": "m"}, "response": {"body": {"choices": '
    + b"[" * 900
    + b"]" * 900
    + b"}}}",
    "huge integer": b'{"request": {"method": "POST", "url": "http://x/v1/chat/completions", "body": {"seed": '
    + b"9" * 4500
    + b'}, "endpoint": "/v1/chat/completions", "model": "m"}, "response": {"body": {"usage": {"n": '
    + b"7" * 4500
    + b"}}}}",
    "lone surrogate": b'{"test_id": "t.py::t[\\ud800]", "request": {"method": "POST", "url": "http://x/v1/chat/completions",'
    b' "body": {"messages": [{"role": "user", "content": "a\\ud800b"}]}, "endpoint": "/v1/chat/completions",'
    b' "model": "m"}, "response": {"body": {"object": "chat.completion", "choices": [{"index": 0, "message":'
    b' {"content": "x\\udc80"}, "finish_reason": "stop"}]}}}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_recordings_never_crash_diff_or_show(runner: CliRunner, tmp_path: Path, name: str) -> None:
    good = tmp_path / "good.json"
    bad = tmp_path / "bad.json"
    good.write_bytes(HOSTILE_BODIES["lone surrogate"].replace(b"\\ud800", b"").replace(b"\\udc80", b""))
    bad.write_bytes(HOSTILE_BODIES[name])
    with inside(tmp_path):
        for args in (
            ["diff", "good.json", "bad.json"],
            ["diff", "bad.json", "bad.json"],
            ["diff", "--json", "good.json", "bad.json"],
        ):
            result = runner.invoke(app, args, catch_exceptions=False)
            assert result.exit_code in (0, 1, 2), result.output
            assert "Traceback" not in result.output
        for args in (
            ["show", "bad.json"],
            ["show", "--assemble", "bad.json"],
            ["show", "--assemble", "--json", "bad.json"],
            ["show", "--json", "bad.json"],
        ):
            result = runner.invoke(app, args, catch_exceptions=False)
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output


def test_diff_against_a_device_or_a_fifo_is_one_line_never_a_hang(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(HOSTILE_BODIES["lone surrogate"])
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for other in ("/dev/zero", str(fifo)):
        with inside(tmp_path):
            result = runner.invoke(app, ["diff", "good.json", other], catch_exceptions=False)
        assert result.exit_code == 1
        assert "not a regular file" in result.output


def test_json_outside_recordings_folders_is_told_from_recordings_by_its_start_or_whole(
    runner: CliRunner, tmp_path: Path
) -> None:
    # Outside every `recordings` folder a JSON file may be something else: a recording says so in its first bytes
    # (then the rest is not read before the comparison), a file whose start does not say is read whole.
    sample = json.loads(
        (
            Path(__file__).parents[1]
            / "recordings/tests/integration/inference/recordings"
            / "98ccf69d79afc51710a9737a435942bea72a30bc48c15da1bd5db9a8b8074711.json"
        ).read_bytes()
    )
    late = {"test_id": "t::x[" + "p" * 6000 + "]", **{k: v for k, v in sample.items() if k != "test_id"}}
    for side in ("old", "new"):
        streams = tmp_path / side / "streams"
        streams.mkdir(parents=True)
        (streams / "plain.json").write_text(json.dumps(sample, indent=2))
        (streams / "late.json").write_text(json.dumps(late, indent=2))
        (streams / "suites.json").write_text(json.dumps([{"suite": "s" * 5000}], indent=2))
        (streams / "small.json").write_text('{"name": "x"}')
    edited = json.loads((tmp_path / "new/streams/late.json").read_text())
    edited["response"]["body"] = "edited"
    (tmp_path / "new/streams/late.json").write_text(json.dumps(edited, indent=2))
    with inside(tmp_path):
        result = runner.invoke(app, ["diff", "--json", "old", "new"], catch_exceptions=False)
    rows = {row["new"]: row["status"] for row in lines(result.stdout)}
    assert rows == {"new/streams/late.json": "changed", "new/streams/plain.json": "unchanged"}
    assert "skipped 4 JSON files that are not recordings" in result.stderr
