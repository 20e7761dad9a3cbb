"""`fixtures show` of a folder: the recordings `ls` lists there, in its order, with its problems; each file read once
by a worker, results handed on as they are done (serial or pooled, the same output)."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import builders
from llm_fixtures import pooling, showing
from llm_fixtures.app import app
from llm_fixtures.config import Project

MODES = [["--assemble", "--json"], ["--json"], ["--assemble"], []]
BEL_ID = "tests/integration/x/test_b.py::test_bel[x]\x07"


def _recording(test_id: str, content: str) -> dict[str, object]:
    request = builders.sdk_request(
        "http://localhost:11434/v1/v1/chat/completions",
        "/v1/chat/completions",
        {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi\rthere"}]},
    )
    chunks = [
        builders.chat_chunk(
            id="r",
            object="chat.completion.chunk",
            created=0,
            model="m",
            choices=[{"index": 0, "delta": {"content": piece}, "finish_reason": finish}],
        )
        for piece, finish in ((content[:3], None), (content[3:], "stop"))
    ]
    return builders.recording(request, chunks, streaming=True, test_id=test_id, mapping=False)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose folder holds what `ls` sorts, skips and reports: `a/` and `a-c/` (a walk and a sort by path
    disagree on their order), a file that is not JSON, one that is JSON but no recording, other JSON outside any
    recordings folder (skipped), and a test id ending in a bell."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    folder = tmp_path / "p" / "recordings"
    for sub in ("a", "a-c", "sub"):
        (folder / sub).mkdir(parents=True)
    builders.write_recording(folder / "a" / "x.json", _recording("tests/integration/x/test_a.py::test_x", "alpha"))
    builders.write_recording(folder / "a-c" / "y.json", _recording("tests/integration/x/test_a.py::test_y", "bravo"))
    builders.write_recording(folder / "sub" / "z.json", _recording("tests/integration/x/test_a.py::test_z", "gamma"))
    builders.write_recording(folder / "bel.json", _recording(BEL_ID, "delta"))
    (folder / "broken.json").write_text("{not json")
    (folder / "list.json").write_text("[1, 2]")
    (tmp_path / "p" / "other").mkdir()
    (tmp_path / "p" / "other" / "package.json").write_text('{"name": "pkg"}')
    (tmp_path / "only" / "other").mkdir(parents=True)
    (tmp_path / "only" / "other" / "f.json").write_text('{"a": 1}')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _ls(runner: CliRunner, folder: str) -> tuple[list[str], list[str]]:
    """The recording paths `ls --json` lists under a folder, and its problem lines (its notes left out)."""
    result = runner.invoke(app, ["ls", "--json", folder], catch_exceptions=False)
    paths = [json.loads(line)["path"] for line in result.stdout.splitlines()]
    return paths, [line for line in result.stderr.splitlines() if not line.startswith("note:")]


@pytest.mark.parametrize("mode", MODES, ids=" ".join)
@pytest.mark.usefixtures("tree")
def test_a_folder_shows_what_ls_lists_in_its_order(runner: CliRunner, mode: list[str]) -> None:
    paths, problems = _ls(runner, "p")
    assert paths == [
        "p/recordings/a-c/y.json",
        "p/recordings/a/x.json",
        "p/recordings/bel.json",
        "p/recordings/sub/z.json",
    ]
    assert [line.split(":")[0] for line in problems] == ["p/recordings/broken.json", "p/recordings/list.json"]
    folder = runner.invoke(app, ["show", *mode, "p"], catch_exceptions=False)
    files = runner.invoke(app, ["show", *mode, *paths], catch_exceptions=False)
    assert folder.stdout == files.stdout
    assert folder.stderr.splitlines() == problems
    assert (folder.exit_code, files.exit_code) == (1, 0)
    if "--json" in mode:
        assert [json.loads(line)["path"] for line in folder.stdout.splitlines()] == paths


@pytest.mark.parametrize("mode", MODES, ids=" ".join)
@pytest.mark.usefixtures("tree")
def test_a_pool_shows_what_one_process_shows(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, mode: list[str]
) -> None:
    serial = runner.invoke(app, ["show", *mode, "p", "p/recordings/a/x.json"], catch_exceptions=False)
    monkeypatch.setattr(showing, "map_ordered", functools.partial(pooling.map_ordered, threshold=1, jobs=2))
    pooled = runner.invoke(app, ["show", *mode, "p", "p/recordings/a/x.json"], catch_exceptions=False)
    assert (pooled.stdout, pooled.stderr, pooled.exit_code) == (serial.stdout, serial.stderr, serial.exit_code)
    assert serial.stdout.count("p/recordings/a/x.json") == 1  # given twice (in its folder, then itself), shown once


@pytest.mark.parametrize(
    ("refs", "first"),
    [
        (["p/recordings", "p/recordings/sub/z.json"], "p/recordings/a-c/y.json"),
        (["p/recordings/sub/z.json", "p/recordings"], "p/recordings/sub/z.json"),
        (["p/recordings/sub", "p/recordings"], "p/recordings/sub/z.json"),
    ],
)
@pytest.mark.usefixtures("tree")
def test_a_file_named_twice_is_shown_once_at_its_first_place(runner: CliRunner, refs: list[str], first: str) -> None:
    result = runner.invoke(app, ["show", "--assemble", "--json", *refs], catch_exceptions=False)
    paths = [json.loads(line)["path"] for line in result.stdout.splitlines()]
    assert paths[0] == first
    assert len(paths) == len(set(paths)) == 4
    # A folder's problems are its own: listed once per folder given, as `ls` of each would list them.
    assert result.stderr.count("broken.json") == 1


@pytest.mark.parametrize("refs", [["only"], ["p", "only"], ["only", "p"], ["only", "abcdef0123"]])
@pytest.mark.usefixtures("tree")
def test_a_folder_that_names_no_recording_prints_nothing_and_exits_2(runner: CliRunner, refs: list[str]) -> None:
    for mode in MODES:
        result = runner.invoke(app, ["show", *mode, *refs], catch_exceptions=False)
        assert (result.exit_code, result.stdout) == (2, ""), (mode, refs)
        assert result.stderr == "error: no recording matches 'only'\n"


@pytest.mark.usefixtures("tree")
def test_a_file_listed_from_a_folder_and_given_as_itself_is_judged_as_each(runner: CliRunner) -> None:
    """JSON that is no recording: a problem of the folder (as `ls` says), and a file that cannot be shown."""
    result = runner.invoke(app, ["show", "--assemble", "--json", "p/recordings/list.json", "p"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.count("p/recordings/list.json: not a recording") == 2
    assert len(result.stdout.splitlines()) == 4


def test_results_come_as_each_chunk_is_done(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first result is handed on before the last file is read (nothing is kept to be printed at the end)."""
    folder = tree / "many" / "recordings"
    folder.mkdir(parents=True)
    data = (tree / "p" / "recordings" / "a" / "x.json").read_bytes()
    for number in range(150):
        (folder / f"{number:03d}.json").write_bytes(data)
    read: list[str] = []
    outcome = showing._outcome

    def counted(target: showing.Target, mode: showing.Mode) -> showing.FileShown:
        read.append(target[0])
        return outcome(target, mode)

    monkeypatch.setattr(showing, "_outcome", counted)
    lines: Iterator[object] = showing.select_targets(["many"], Project(tree)).json_lines()
    next(lines)
    assert 0 < len(read) < 150
    assert len(list(lines)) == 149 and len(read) == 150


@pytest.mark.usefixtures("tree")
def test_a_control_character_rich_would_drop_is_shown_escaped(runner: CliRunner) -> None:
    result = runner.invoke(app, ["show", "p/recordings/bel.json"], catch_exceptions=False)
    assert "test_bel[x]\\x07\n" in result.stdout
    assert "hi\\rthere" in result.stdout
    assert "\x07" not in result.stdout and "\r" not in result.stdout
    result = runner.invoke(app, ["show", "--assemble", "p/recordings/bel.json"], catch_exceptions=False)
    assert result.stdout.startswith("p/recordings/bel.json\n")


def test_the_corpus_folder_shows_what_ls_lists(
    runner: CliRunner, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every recording of the real corpus, from its folder: the objects of the files `ls` lists, in its order,
    serial and pooled alike."""
    monkeypatch.chdir(corpus.parent)
    paths, problems = _ls(runner, "corpus")
    assert len(paths) > 150
    for mode in (["--assemble", "--json"], ["--json"]):
        folder = runner.invoke(app, ["show", *mode, "corpus"], catch_exceptions=False)
        assert folder.exit_code == (1 if problems else 0), folder.stderr
        assert folder.stderr.splitlines() == problems
        assert [json.loads(line)["path"] for line in folder.stdout.splitlines()] == paths
        files = runner.invoke(app, ["show", *mode, *paths], catch_exceptions=False)
        assert folder.stdout == files.stdout
        with monkeypatch.context() as patched:
            patched.setattr(showing, "map_ordered", functools.partial(pooling.map_ordered, threshold=1, jobs=2))
            pooled = runner.invoke(app, ["show", *mode, "corpus"], catch_exceptions=False)
        assert pooled.stdout == folder.stdout


@pytest.mark.usefixtures("tree")
def test_diff_shows_a_bell_in_a_test_id_escaped(runner: CliRunner, tmp_path: Path) -> None:
    # The same recordings with another answer: the pair's test id (ending in a bell) is printed in its details.
    other = tmp_path / "other.json"
    builders.write_recording(other, _recording(BEL_ID, "epsilon"))
    result = runner.invoke(app, ["diff", "p/recordings/bel.json", str(other)], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "test_bel[x]\\x07" in result.stdout
    assert "\x07" not in result.stdout


# Every form of `show` that reads files.
SHOW_FORMS = [["show"], ["show", "--json"], ["show", "--assemble"], ["show", "--assemble", "--json"]]


@pytest.mark.parametrize("args", SHOW_FORMS)
def test_a_folder_of_only_unreadable_files_lists_them_and_exits_1(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    # Each folder names something only through files that cannot be shown: they are its problems, not "no match".
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    good, bad = tmp_path / "good" / "recordings", tmp_path / "bad" / "recordings"
    good.mkdir(parents=True)
    bad.mkdir(parents=True)
    builders.write_recording(good / "x.json", _recording("tests/integration/x/test_a.py::test_x", "alpha"))
    (bad / "trunc.json").write_text('{"request": {"a"')
    (bad / "text.json").write_text("hello\n")
    os.mkfifo(bad / "fifo.json")
    monkeypatch.chdir(tmp_path)
    for folders in (["bad/recordings"], ["good/recordings", "bad/recordings"]):
        result = runner.invoke(app, [*args, *folders], catch_exceptions=False)
        assert result.exit_code == 1, result.output
        for name, reason in (("trunc.json", "truncated JSON"), ("text.json", "invalid JSON"), ("fifo.json", "FIFO")):
            assert [line for line in result.stderr.splitlines() if name in line and reason in line], result.stderr
        assert ("alpha" in result.stdout or "x.json" in result.stdout) == (len(folders) == 2)


@pytest.mark.parametrize("args", SHOW_FORMS)
def test_a_fifo_or_a_device_named_as_a_file_is_said_to_be_one(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    # Not "no recording matches": the path exists, and the reader says what it is, in one line, exit 1.
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    os.mkfifo(tmp_path / "pipe.json")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*args, "pipe.json", "/dev/null"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "pipe.json: a FIFO (named pipe), not a regular file",
        "/dev/null: a device, not a regular file",
    ]
