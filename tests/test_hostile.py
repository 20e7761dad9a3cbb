"""Hostile input, class by class, against every command: never a traceback or a hang, one line per bad file.

Every case plants one hostile thing in a small real project (a good recording beside it) and runs each command on
it in process, with catch_exceptions=False (a crash fails the test) under an alarm (a hang fails it in seconds).
A bad file must give one `path: what is wrong` line and the command's exit code for bad files, and the good
recording must still be processed; a link out of the project must never be followed. The states under `.fixtures/`
and the trash, caches and git's view of a file are attacked in the tests below the grid.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import SAMPLES
from diffkit import commit_all, git
from llm_fixtures.app import app

REC = "tests/integration/inference/recordings"
TEST_FILE = "tests/integration/inference/test_openai_chat_completion.py"
GOOD_NAME = "7710372bff77e3f1934bfaa9eee862b29504d010f7cb7b092b856c66d5fe3191.json"
GOOD = SAMPLES / REC / GOOD_NAME
GOOD_HASH = GOOD_NAME[:12]
GOOD_TEST = "test_openai_chat_completion_streaming_parallel_tools"
# A second real recording, kept outside the project for the links that lead out: it must never show up.
OUTSIDE_NAME = "0687abc099edebcfda989ed5b3b4bd87eeebb18205159358d33a3f479b262de5.json"
SECONDS = 10  # a case that takes longer is a hang
# A project of its own (how its tests record is said, so that `rerecord --dry-run` can plan).
PYPROJECT = '[project]\nname = "demo"\nversion = "0"\n\n[tool.fixtures.rerecord]\nenv = { DEMO_MODE = "record" }\n'

# Each command as a user runs it on the recordings folder ({rec}); `diff` compares it with a copy made before the
# hostile thing was planted ({before}).
COMMANDS: dict[str, list[str]] = {
    "ls": ["ls", "{rec}"],
    "ls --json --no-cache": ["ls", "--json", "--no-cache", "{rec}"],
    "show": ["show", "{rec}"],
    "show --json": ["show", "--json", "{rec}"],
    "show --assemble": ["show", "--assemble", "{rec}"],
    "show --raw": ["show", "--raw", "{rec}"],
    "diff": ["diff", "{before}", "{rec}"],
    "check": ["check", "{rec}"],
    "normalize": ["normalize", "{rec}"],
    "prune": ["prune", "{rec}"],
    "rerecord --dry-run": ["rerecord", "{rec}", "--dry-run"],
}
# The exit code when one file is bad and the others are fine: 1, but `diff`, whose README says an `error` pair
# exits 2.
# The commands that print what they found on stdout (for them the good recording must still be there).
LISTS_THE_GOOD_ONE = ("ls", "ls --json --no-cache", "show", "show --json", "show --assemble", "rerecord --dry-run")


@dataclass(frozen=True)
class Case:
    """One hostile thing. `bad` is (file name, words of the reason) when the file must be reported as bad;
    None when it is a valid recording that only must not break anything. `skipped` names a JSON file that is
    not a recording and must be skipped, not reported. `xfail` maps a command to why it still fails: work of
    another branch."""

    plant: Callable[[Path, Path], None]  # (project root, a folder outside the project)
    bad: tuple[str, str] | None = None
    deep: str | None = None  # a valid file a command may still find too deeply nested to follow: its name
    target: str = REC
    skipped: str | None = None
    xfail: dict[str, str] = field(default_factory=dict)
    # What the commands that list must still show of the good file beside it (default: the good recording).
    good: str | None = None


def _good() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(GOOD.read_text())
    return document


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _replaced(old: str, new: str) -> str:
    text = json.dumps(_good(), indent=2)
    assert old in text
    return text.replace(old, new, 1)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def fifo(root: Path, _outside: Path) -> None:
    os.mkfifo(root / REC / "x.json")


def huge_int_in_request(root: Path, _outside: Path) -> None:
    _write(root / REC / "huge.json", _replaced('"stream": true', '"stream": true, "seed": ' + "9" * 4400))


def huge_int_in_response(root: Path, _outside: Path) -> None:
    _write(root / REC / "huge.json", _replaced('"completion_tokens": 50', '"completion_tokens": ' + "9" * 4400))


def long_int(root: Path, _outside: Path) -> None:
    # 400 digits: more than orjson (64 bits) or a float holds, less than Python's limit: a valid file.
    _write(root / REC / "long.json", _replaced('"completion_tokens": 50', '"completion_tokens": ' + "9" * 400))


def bad_url(root: Path, _outside: Path) -> None:
    document = _good()
    document["request"]["url"] = "http://[::1"
    _write(root / REC / "url.json", json.dumps(document))


def surrogate_in_prompt(root: Path, _outside: Path) -> None:
    _write(root / REC / "prompt.json", _replaced("What's the weather", "What\\ud800s the weather"))


def surrogate_in_test_id(root: Path, _outside: Path) -> None:
    _write(root / REC / "testid.json", _replaced("test_openai_chat_completion_streaming_parallel_tools", "t\\ud800x"))


def deep_request(root: Path, _outside: Path) -> None:
    _write(root / REC / "deep.json", _replaced('"stream": true', '"stream": true, "metadata": ' + _nested(1000)))


def deep_response(root: Path, _outside: Path) -> None:
    _write(root / REC / "deep.json", _replaced('"completion_tokens": 50', '"completion_tokens": ' + _nested(500)))


def secret_prefixes(root: Path, _outside: Path) -> None:
    # 2 MB of prompt made of secret prefixes: each engine tries a pattern where a secret could start, not at
    # every repetition (a hostile file made to slow the scan of check and of every output).
    _write(root / REC / "prefixes.json", _replaced("What's the weather", "eyJ" * 400_000 + "AKIA" * 200_000))


def distinct_keys(root: Path, _outside: Path) -> None:
    # 1 MB of prompt made of 35,000 distinct API keys: each is reported or counted once, not compared with every
    # one before it (a minute of `check` for this file), and not given a line by counting from the file's start.
    keys = " ".join(f"sk-{number:024d}" for number in range(35_000))
    _write(root / REC / "keys.json", _replaced("What's the weather", keys))


def list_at_top(root: Path, _outside: Path) -> None:
    _write(root / REC / "list.json", "[1, 2, 3]\n")


def response_list(root: Path, _outside: Path) -> None:
    document = _good()
    document["response"] = []
    _write(root / REC / "empty.json", json.dumps(document))


def foreign_list(root: Path, _outside: Path) -> None:
    # As upstream's tests/integration/client-typescript/suites.json: JSON, but no recording, outside `recordings`.
    _write(root / "tests/integration/client-typescript/suites.json", '[{"suite": "base"}]\n')


def folder_link_out(root: Path, outside: Path) -> None:
    (root / REC / "linked").symlink_to(outside)


def file_link_out(root: Path, outside: Path) -> None:
    (root / REC / "evil.json").symlink_to(outside / OUTSIDE_NAME)


def name_not_utf8(root: Path, _outside: Path) -> None:
    shutil.copyfile(GOOD, root / REC / os.fsdecode(b"bad\xff.json"))


def _cache_entry(root: Path, entry: Any) -> None:
    """A facts cache and a check cache whose entry for the good recording is `entry`: with the real key (so that
    nothing but the entry's shape can make it a miss), made as the tool names them."""
    from llm_fixtures.caching import cache_file, stamp_of
    from llm_fixtures.catalog import CACHE_FORMAT
    from llm_fixtures.checking import CHECK_NAMES, CheckOptions
    from llm_fixtures.config import load_project
    from llm_fixtures.linting import fingerprint

    location = str(root / REC / GOOD_NAME)
    stamp = stamp_of(location)
    filled = json.loads(json.dumps(entry).replace('"STAMP"', json.dumps(stamp)))
    facts_file = cache_file("facts", load_project(root).root)
    facts_file.parent.mkdir(parents=True, exist_ok=True)
    facts_file.write_text(json.dumps({"key": CACHE_FORMAT, "entries": {location: filled}}))
    key = fingerprint(CheckOptions(checks=frozenset(CHECK_NAMES)))
    cache_file("check", root).write_text(json.dumps({"key": key, "entries": {location: filled}}))


def cache_entry_5(root: Path, _outside: Path) -> None:
    _cache_entry(root, 5)


def cache_entry_empty(root: Path, _outside: Path) -> None:
    _cache_entry(root, [])


def cache_entry_bad_stamp(root: Path, _outside: Path) -> None:
    _cache_entry(root, [["x", None], "ok", [1]])


def cache_entry_wrong_row(root: Path, _outside: Path) -> None:
    # The right stamp and a row of the right length whose model is a number, for the facts cache; a report
    # whose findings are not lists of five, for the check cache.
    row: list[Any] = [GOOD_NAME, GOOD_NAME[:-5], "inference", "/v1/x", 123, None, None, False, 0]
    row += [None, None, None, None, 1, False, False, None, None, "current"]
    _cache_entry(root, ["STAMP", "ok", row])


def cache_is_a_fifo(root: Path, _outside: Path) -> None:
    from llm_fixtures.caching import cache_file
    from llm_fixtures.config import load_project

    for path in (cache_file("facts", load_project(root).root), cache_file("check", root)):
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)


# A cassette folder of the project (pytest-recording's layout), with one good cassette of the project's test.
CAS = "tests/integration/inference/cassettes/test_openai_chat_completion"
GOOD_CASSETTE = f"{GOOD_TEST}.yaml"


def vcr_cassette(
    prompt: str = "hi",
    answer: str | bytes = "hello",
    *,
    uri: str = "https://api.openai.com/v1/chat/completions",
    headers: dict[str, list[str]] | None = None,
    answer_headers: dict[str, list[str]] | None = None,
) -> str:
    """A VCR.py cassette of one chat completion, as vcrpy writes it: `answer` is the assistant's text, or the
    body's bytes as sent (stored `!!binary`)."""
    import yaml

    message = {"role": "assistant", "content": answer}
    completion = {"id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o"}
    completion["choices"] = [{"index": 0, "message": message, "finish_reason": "stop"}]
    body = answer if isinstance(answer, bytes) else json.dumps(completion, separators=(",", ":"))
    request = {"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]}
    interaction = {
        "request": {
            "body": json.dumps(request, separators=(",", ":")),
            "headers": {**(headers or {}), "content-type": ["application/json"]},
            "method": "POST",
            "uri": uri,
        },
        "response": {
            "body": {"string": body},
            "headers": {**(answer_headers or {}), "content-type": ["application/json"]},
            "status": {"code": 200, "message": "OK"},
        },
    }
    return str(yaml.safe_dump({"interactions": [interaction], "version": 1}, sort_keys=False))


def fifo_cassette(root: Path, _outside: Path) -> None:
    os.mkfifo(root / CAS / "x.yaml")


def alias_bomb(root: Path, _outside: Path) -> None:
    laughs = ['lol: &a0 ["lol"]'] + [f"l{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    _write(root / CAS / "bomb.yaml", "\n".join(laughs) + "\ninteractions: [*a11]\nversion: 1\n")


@functools.cache
@functools.cache
def _inflating_to(size: int, head: bytes = b"") -> bytes:
    # Made once per worker: compressing 300 MB takes a second, which the cases' hang alarm would count.
    engine = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [engine.compress(head)]
    block = b"\0" * (1 << 20)
    parts.extend(engine.compress(block) for _ in range(size >> 20))
    return b"".join([*parts, engine.flush()])


def gzip_bomb(root: Path, _outside: Path) -> None:
    # A gzipped cassette (as langchain keeps them) that inflates past the cap.
    (root / CAS / "big.yaml.gz").write_bytes(_inflating_to(300 << 20, b"interactions: []\n# "))


def gzip_body_bomb(root: Path, _outside: Path) -> None:
    # A valid cassette whose gzip-encoded answer inflates to 100 MB: its body is not decoded, and said so.
    bomb = vcr_cassette(answer=_inflating_to(100 << 20), answer_headers={"content-encoding": ["gzip"]})
    _write(root / CAS / "gzbody.yaml", bomb)


CASES: dict[str, Case] = {
    "fifo": Case(
        fifo,
        bad=("x.json", "FIFO"),
    ),
    "huge int in request": Case(huge_int_in_request, bad=("huge.json", "integer of more than")),
    "huge int in response": Case(huge_int_in_response, bad=("huge.json", "integer of more than")),
    "400-digit int": Case(long_int),
    "bad url": Case(bad_url, bad=("url.json", "not a valid URL")),
    "surrogate in prompt": Case(surrogate_in_prompt),
    "surrogate in test id": Case(surrogate_in_test_id),
    "list 1000 deep in request": Case(deep_request, deep="deep.json"),
    "list 500 deep in response": Case(deep_response, deep="deep.json"),
    "2 MB of secret prefixes": Case(secret_prefixes),
    "35,000 distinct keys": Case(distinct_keys),
    "list at top level": Case(list_at_top, bad=("list.json", "top level is a JSON list")),
    "response is a list": Case(response_list, bad=("empty.json", "response")),
    "JSON list outside recordings": Case(foreign_list, target="tests/integration", skipped="suites.json"),
    "file name not UTF-8": Case(
        name_not_utf8,
        bad=("bad\\xff.json", "not valid UTF-8"),
    ),
    "folder link out": Case(
        folder_link_out,
        bad=("linked", "outside the project"),
    ),
    "file link out": Case(
        file_link_out,
        bad=("evil.json", "outside the project"),
    ),
    "FIFO in a cassette folder": Case(fifo_cassette, bad=("x.yaml", "FIFO"), target=CAS, good=GOOD_CASSETTE),
    "YAML alias bomb": Case(alias_bomb, bad=("bomb.yaml", "alias bomb"), target=CAS, good=GOOD_CASSETTE),
    "gzip bomb cassette": Case(gzip_bomb, bad=("big.yaml.gz", "larger than"), target=CAS, good=GOOD_CASSETTE),
    "gzip bomb in a body": Case(gzip_body_bomb, target=CAS, good=GOOD_CASSETTE),
    "cache entry 5": Case(cache_entry_5),
    "cache entry []": Case(cache_entry_empty),
    "cache entry with a bad stamp": Case(cache_entry_bad_stamp),
    "cache entry of the wrong shape": Case(cache_entry_wrong_row),
    "cache file is a FIFO": Case(cache_is_a_fifo),
}


class Hang(Exception):
    pass


@pytest.fixture
def alarm() -> Iterator[None]:
    """Interrupt whatever runs (a blocking open of a FIFO included) after SECONDS."""

    def ring(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"no answer after {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one good recording and its test file, as the current folder; a recording outside it."""
    root = tmp_path / "project"
    (root / REC).mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / TEST_FILE).write_text("def test_openai_chat_completion_streaming_parallel_tools():\n    pass\n")
    shutil.copyfile(GOOD, root / REC / GOOD_NAME)
    _write(root / CAS / GOOD_CASSETTE, vcr_cassette())
    (tmp_path / "outside").mkdir()
    shutil.copyfile(SAMPLES / REC / OUTSIDE_NAME, tmp_path / "outside" / OUTSIDE_NAME)
    monkeypatch.chdir(root)
    monkeypatch.setenv("COLUMNS", "200")
    return root


def _params() -> Iterator[Any]:
    for case_name, case in CASES.items():
        for command in COMMANDS:
            marks = [pytest.mark.xfail(strict=True, reason=case.xfail[command])] if command in case.xfail else []
            yield pytest.param(case_name, command, marks=marks, id=f"{case_name}-{command}")


@pytest.mark.usefixtures("alarm")
@pytest.mark.parametrize(("case_name", "command"), list(_params()))
def test_every_command_meets_hostile_input(project: Path, tmp_path: Path, case_name: str, command: str) -> None:
    case = CASES[case_name]
    before = tmp_path / "before"
    shutil.copytree(project / case.target, before, symlinks=True)
    case.plant(project, tmp_path / "outside")
    args = [arg.format(rec=case.target, before=before) for arg in COMMANDS[command]]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    output = result.stdout + result.stderr
    assert OUTSIDE_NAME[:12] not in output, "a file outside the project was read"
    if case.bad is not None:
        name, reason = case.bad
        assert result.exit_code == 1, output  # a file that cannot be used is a finding, in every command
        # `check` reports a bad file as a `schema` finding, in its table (the reason under the path).
        lines = [output] if command == "check" else output.splitlines()
        assert [line for line in lines if name in line and reason in line], f"{name}, {reason!r} not said:\n{output}"
    else:
        assert result.exit_code in (0, 1), output
        if case.deep is not None and "nested too deeply" in output:  # a command that cannot follow it says so
            assert [line for line in output.splitlines() if case.deep in line and "nested too deeply" in line], output
    if command in LISTS_THE_GOOD_ONE and case.good is not None:
        # A cassette's re-record plan is said on stderr, as the run's other lines.
        assert case.good in (output if command.startswith("rerecord") else result.stdout), output
    elif command.startswith("rerecord"):
        # Its plan: on stdout for recordings; on stderr for cassettes, which win when a folder holds both.
        assert GOOD_TEST in (result.stdout if case.target == REC else output), output
    elif command in LISTS_THE_GOOD_ONE:
        assert GOOD_HASH in result.stdout, output
    if case.skipped is not None:
        assert result.exit_code == 0, output
        assert not [line for line in result.stderr.splitlines() if case.skipped in line and "note" not in line]
    if case_name.startswith("cache") and command.startswith("ls"):
        assert "gpt-4o" in result.stdout  # the facts of the file, not of the planted entry


# --- the other hostile classes: state files, caches, git's view of a file, settings --------------------------


def test_ls_skips_json_that_is_no_recording_outside_recordings_with_a_note(project: Path) -> None:
    foreign_list(project, project)
    result = CliRunner().invoke(app, ["ls", "tests/integration"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "note: skipped 1 JSON file that is not a recording" in result.stderr
    assert GOOD_HASH in result.stdout


def test_a_list_in_a_recordings_folder_is_still_a_bad_recording(project: Path) -> None:
    for command in (["ls"], ["check"], ["normalize"]):
        list_at_top(project, project)
        result = CliRunner().invoke(app, [*command, REC], catch_exceptions=False)
        assert result.exit_code == 1
        assert "list.json" in result.output and "top level is a JSON list" in result.output


def test_rerecord_of_a_folder_holding_only_bad_files_selects_nothing(project: Path) -> None:
    """Its files are said; the catalog of no file is never taken for the project's every recording."""
    other = project / "tests/integration/other/recordings"
    _write(other / "list.json", "[1, 2, 3]\n")
    os.mkfifo(other / "x.json")
    result = CliRunner().invoke(app, ["rerecord", str(other.relative_to(project)), "--dry-run"], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and GOOD_TEST not in result.output
    lines = result.stderr.splitlines()
    assert [line for line in lines if "list.json" in line and "top level is a JSON list" in line]
    assert [line for line in lines if "x.json" in line and "FIFO" in line]
    assert lines[-1] == "no recording matches the selection"


@pytest.mark.usefixtures("project")
def test_recordings_selected_beside_cassettes_are_re_recorded_too() -> None:
    result = CliRunner().invoke(app, ["rerecord", "tests/integration", "--dry-run"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"run  {CAS}/{GOOD_CASSETTE}" in result.stderr  # the cassettes' plan, then the recordings'
    assert GOOD_NAME[:12] in result.output


def _limited_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("other", ["/dev/zero", "fifo"])
def test_diff_with_a_device_or_a_fifo_answers_at_once(project: Path, other: str) -> None:
    if other == "fifo":
        os.mkfifo(project / "x.json")
        other = str(project / "x.json")
    done = subprocess.run(
        [sys.executable, "-m", "llm_fixtures", "diff", f"{REC}/{GOOD_NAME}", other],
        capture_output=True,
        text=True,
        timeout=SECONDS,
        preexec_fn=_limited_memory,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "not a regular file" in done.stderr


def test_a_bad_collect_setting_is_one_line(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.fixtures.prune]\ncollect = [[]]\n")
    result = CliRunner().invoke(app, ["prune", "--collect", REC], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {pyproject}: [tool.fixtures] prune.collect.0")


@pytest.mark.parametrize(
    "table",
    [
        'tool = "fixtures"',
        "[tool.fixtures]\nroots = ['../elsewhere']",
        "[tool.fixtures]\nroots = ['/etc']",
        "x = " + _nested(5000),
        "x = " + "9" * 4400,
    ],
)
def test_a_hostile_pyproject_is_one_line(project: Path, table: str) -> None:
    (project / "pyproject.toml").write_text(table + "\n")
    result = CliRunner().invoke(app, ["ls"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "pyproject.toml" in result.stderr


def test_configured_root_linking_out_is_refused(project: Path, tmp_path: Path) -> None:
    (project / "recs").symlink_to(tmp_path / "outside")
    (project / "pyproject.toml").write_text("[tool.fixtures]\nroots = ['recs']\n")
    result = CliRunner().invoke(app, ["ls"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "leads outside the project" in result.stderr
    assert OUTSIDE_NAME[:12] not in result.output


# --- the trash: prune --restore never writes outside the project, whatever the batch says --------------------


def _trashed_batch(root: Path) -> Path:
    """A real batch: the good recording (untracked, so moved into the trash) removed by `prune --delete`."""
    (root / TEST_FILE).unlink()
    result = CliRunner().invoke(app, ["prune", "--delete", "--yes", REC], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert not (root / REC / GOOD_NAME).exists()
    [batch] = (root / ".fixtures-trash").iterdir()
    return batch


def _restore_refused(root: Path, words: str) -> None:
    result = CliRunner().invoke(app, ["prune", "--restore"], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr
    assert not (root / REC / GOOD_NAME).exists()


def _edit_manifest(batch: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    manifest = json.loads((batch / "manifest.json").read_text())
    edit(manifest)
    (batch / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("path", ["../outside/x.json", "/tmp/x.json", "linked/x.json", ".git/hooks/pre-commit"])
def test_restore_refuses_a_manifest_naming_paths_outside(project: Path, tmp_path: Path, path: str) -> None:
    batch = _trashed_batch(project)
    (project / "linked").symlink_to(tmp_path / "outside")

    def point_out(manifest: dict[str, Any]) -> None:
        manifest["entries"].append({"path": path, "how": "trash", "blob": None, "mode": "0o644"})

    _edit_manifest(batch, point_out)
    _restore_refused(project, "bad entry")
    assert [path.name for path in (tmp_path / "outside").iterdir()] == [OUTSIDE_NAME]


def test_restore_never_writes_through_a_folder_now_linked_out(project: Path, tmp_path: Path) -> None:
    _trashed_batch(project)
    shutil.rmtree(project / REC)
    (project / REC).symlink_to(tmp_path / "outside")
    _restore_refused(project, "leads outside the project")
    assert [path.name for path in (tmp_path / "outside").iterdir()] == [OUTSIDE_NAME]


@pytest.mark.parametrize("what", ["batch", "files", "trash"])
def test_restore_refuses_a_batch_whose_folders_are_links(project: Path, tmp_path: Path, what: str) -> None:
    batch = _trashed_batch(project)
    elsewhere = tmp_path / "elsewhere"
    if what == "batch":
        shutil.move(batch, elsewhere)
        batch.symlink_to(elsewhere)
    elif what == "files":
        shutil.move(batch / "files", elsewhere)
        (batch / "files").symlink_to(elsewhere)
    else:
        shutil.move(batch.parent, elsewhere)
        batch.parent.symlink_to(elsewhere)
    _restore_refused(project, "leads outside" if what == "trash" else "nothing restored")


def test_delete_never_moves_a_file_into_a_trash_folder_linked_out(project: Path, tmp_path: Path) -> None:
    (project / ".fixtures-trash").symlink_to(tmp_path / "outside")
    (project / TEST_FILE).unlink()
    result = CliRunner().invoke(app, ["prune", "--delete", "--yes", REC], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.endswith("leads outside " + str(project) + "; nothing moved\n"), result.stderr
    assert (project / REC / GOOD_NAME).read_bytes() == GOOD.read_bytes()
    assert [path.name for path in (tmp_path / "outside").iterdir()] == [OUTSIDE_NAME]


@pytest.mark.parametrize(
    "manifest",
    [
        "[]",
        '{"project_root": 5, "entries": []}',
        '{"project_root": "ROOT", "entries": [5]}',
        '{"project_root": "ROOT", "entries": [{"path": "a.json", "how": "git", "blob": "HEAD:secret"}]}',
        '{"project_root": "ROOT", "entries": [{"path": "a.json", "how": "trash", "mode": "0o4777777"}]}',
        "{" * 5000,
    ],
)
def test_restore_refuses_a_manifest_of_the_wrong_shape(project: Path, manifest: str) -> None:
    batch = _trashed_batch(project)
    (batch / "manifest.json").write_text(manifest.replace("ROOT", str(project)))
    _restore_refused(project, "manifest")


@pytest.mark.usefixtures("alarm")
def test_restore_never_blocks_on_a_fifo_in_the_batch(project: Path) -> None:
    batch = _trashed_batch(project)
    (batch / "manifest.json").unlink()
    os.mkfifo(batch / "manifest.json")
    _restore_refused(project, "FIFO")


# --- git may give a file back only when its bytes are exactly what git holds ----------------------------------


@pytest.fixture
def repo(project: Path) -> Path:
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "recordings")
    (project / TEST_FILE).unlink()
    return project


def _delete(root: Path) -> str:
    result = CliRunner().invoke(app, ["prune", "--delete", "--yes", REC], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    [batch] = (root / ".git" / "fixtures-trash").iterdir()
    [entry] = json.loads((batch / "manifest.json").read_text())["entries"]
    how: str = entry["how"]
    return how


def test_diff_against_git_skips_json_that_is_no_recording_with_the_note(repo: Path) -> None:
    foreign_list(repo, repo)
    commit_all(repo, "suites")
    (repo / "tests/integration/client-typescript/suites.json").write_text('[{"suite": "vision"}]\n')
    result = CliRunner().invoke(app, ["diff", "--git", "HEAD", "tests/integration"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "suites.json" not in result.stdout
    assert "note: skipped 1 JSON file that is not a recording" in result.stderr


def test_a_committed_unchanged_orphan_is_left_to_git(repo: Path) -> None:
    assert _delete(repo) == "git"
    assert CliRunner().invoke(app, ["prune", "--restore"], catch_exceptions=False).exit_code == 0
    assert (repo / REC / GOOD_NAME).read_bytes() == GOOD.read_bytes()


def test_a_staged_but_uncommitted_change_goes_to_the_trash(repo: Path) -> None:
    path = repo / REC / GOOD_NAME
    path.write_bytes(GOOD.read_bytes().replace(b"Lisbon", b"Lisboa"))
    git(repo, "add", str(path))
    staged = path.read_bytes()
    assert _delete(repo) == "trash"  # git gc would lose the staged blob: never rely on it
    git(repo, "gc", "-q", "--prune=now")
    assert CliRunner().invoke(app, ["prune", "--restore"], catch_exceptions=False).exit_code == 0
    assert path.read_bytes() == staged


def test_a_file_under_a_clean_filter_goes_to_the_trash(repo: Path) -> None:
    # As git-lfs does: git stores what the clean filter makes of the file, and `git status` calls it clean.
    git(repo, "config", "filter.upper.clean", "tr a-z A-Z")
    git(repo, "config", "filter.upper.smudge", "cat")
    (repo / ".gitattributes").write_text("*.json filter=upper\n")
    git(repo, "add", "--renormalize", REC)
    commit_all(repo, "filtered")
    assert git(repo, "status", "--porcelain", "--", REC) == ""
    assert _delete(repo) == "trash"
    assert CliRunner().invoke(app, ["prune", "--restore"], catch_exceptions=False).exit_code == 0
    assert (repo / REC / GOOD_NAME).read_bytes() == GOOD.read_bytes()


# --- check --rename --write keeps what the file was -----------------------------------------------------------


def test_rename_keeps_mode_and_owner(project: Path) -> None:
    stale = project / REC / ("0" * 64 + ".json")
    (project / REC / GOOD_NAME).rename(stale)
    stale.chmod(0o600)
    owner = (stale.stat().st_uid, stale.stat().st_gid)
    if os.getuid() == 0:
        os.chown(stale, 4321, 4321)
        owner = (4321, 4321)
    result = CliRunner().invoke(app, ["check", "--rename", "--write", REC], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    renamed = project / REC / GOOD_NAME
    assert not stale.exists()
    assert renamed.stat().st_mode & 0o777 == 0o600
    assert (renamed.stat().st_uid, renamed.stat().st_gid) == owner


# --- the caches, on a filesystem whose timestamps are whole seconds ---------------------------------------------


@pytest.fixture
def whole_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every stamp the caches take look as on ext3 or HFS+: timestamps cut to the second."""
    from llm_fixtures import caching

    class Coarse:
        def __init__(self, real: os.stat_result) -> None:
            self.st_size = real.st_size
            self.st_mtime_ns = real.st_mtime_ns // 10**9 * 10**9
            self.st_ctime_ns = real.st_ctime_ns // 10**9 * 10**9

    monkeypatch.setattr(caching, "_stat", lambda path: Coarse(Path(path).stat()))


@pytest.mark.usefixtures("whole_seconds")
def test_a_same_size_rewrite_within_the_second_is_never_served_stale(project: Path) -> None:
    path = project / REC / GOOD_NAME
    clean = path.read_bytes()
    sentence = b"What's the weather in Lisbon and in Oslo"
    secret = clean.replace(sentence, b"sk-" + b"A1b2C3d4E5" * 3 + b"F6g7h8J", 1)
    model = clean.replace(b'"model": "gpt-4o"', b'"model": "gpt-4x"')
    assert len(secret) == len(model) == len(clean) and secret != clean and model != clean
    assert CliRunner().invoke(app, ["check", "--select", "secrets", REC], catch_exceptions=False).exit_code == 0
    assert json.loads(CliRunner().invoke(app, ["ls", "--json", REC]).stdout)["model"] == "gpt-4o"
    path.write_bytes(secret)
    again = CliRunner().invoke(app, ["check", "--select", "secrets", REC], catch_exceptions=False)
    assert again.exit_code == 1, again.output  # the planted key is found, not the clean verdict of a moment ago
    path.write_bytes(model)
    assert json.loads(CliRunner().invoke(app, ["ls", "--json", REC]).stdout)["model"] == "gpt-4x"
