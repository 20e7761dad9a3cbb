"""`fixtures rerecord` with no `[tool.fixtures.rerecord]` settings on a miniature upstream suite of each era
(tests/minisuite.py: setups that produce parametrized ids, a conftest that writes the mode variable from
`--inference-mode`), run for real with pytest subprocesses, recording through the fake server on 127.0.0.1: one
run per setup producing exactly the selected ids; a failed run leaves every file of the project byte for byte as
it was (the whole tree hashed); files another process writes during a run survive it."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import minisuite
import pytest
from minisuite import ANSWERS, CHAT
from typer.testing import CliRunner

import builders
from fakeserver import FakeServer
from llm_fixtures.app import app

OLLAMA = f"{CHAT}::test_chat[txt=ollama/llama3.2:3b-instruct-fp16]"
OLLAMA_SKY = f"{CHAT}::test_ask[txt=ollama/llama3.2:3b-instruct-fp16-sky]"
GPT = f"{ANSWERS}::test_answer[txt=openai/gpt-4o]"
VLLM = f"{CHAT}::test_chat[txt=vllm/Qwen/Qwen3-0.6B]"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Each era's suite with its first recordings, committed to git; built once per era, copied per test."""
    made: dict[str, Path] = {}
    with FakeServer() as server:
        for era in minisuite.ERAS:
            root = tmp_path_factory.mktemp(f"mini-{era}")
            minisuite.write_suite(root, era)
            minisuite.record_first(root, era, server.url)
            minisuite.git(root, "init", "-q")
            minisuite.git(root, "add", "-A")
            minisuite.git(root, "commit", "-q", "-m", "first recordings")
            made[era] = root
        yield made


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(answer="Re-recorded answer") as running:
        yield running


@pytest.fixture(params=minisuite.ERAS)
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def project(
    built: dict[str, Path], era: str, server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    root = tmp_path / "project"
    shutil.copytree(built[era], root, symlinks=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("MINI_FAKE_URL", server.url)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for name in (*minisuite.MODE_VARIABLE.values(), "MINI_FAIL", "MINI_SYNC", "OGX_CONFIG", "LLAMA_STACK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return root


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["rerecord", *args], catch_exceptions=False)


def tree(root: Path) -> dict[str, str]:
    """The SHA-256 of every file of the project but git's own (the trash lives there)."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def by_test(root: Path) -> dict[str | None, list[str]]:
    found: dict[str | None, list[str]] = {}
    for path, raw in minisuite.recordings(root).items():
        found.setdefault(raw.get("test_id"), []).append(path)  # type: ignore[arg-type]
    return found


def content(root: Path, test_id: str) -> str:
    [path] = by_test(root)[test_id]
    raw = minisuite.recordings(root)[path]
    return str(raw["response"]["body"]["__data__"]["choices"][0]["message"]["content"])  # type: ignore[index]


def test_a_selection_spanning_three_setups_is_three_runs(project: Path, server: FakeServer, era: str) -> None:
    before = tree(project)
    plan = invoke(OLLAMA, GPT, VLLM, "--dry-run")
    assert plan.exit_code == 0, plan.output
    commands = [line.split("$ ", 1)[1] for line in plan.stdout.splitlines() if line.startswith("  $ ")]
    assert len(commands) == 3
    variable = minisuite.MODE_VARIABLE[era]
    for command, setup, test in zip(commands, ("ollama", "gpt", "vllm"), (OLLAMA, GPT, VLLM), strict=True):
        words = shlex.split(command)  # a line a person can copy into a shell
        assert words[0] == f"{variable}=record" and words[1] == "pytest"
        assert f"--setup={setup}" in words and "--inference-mode=record" in words
        assert words[-2:] == ["--", test]
    assert f"preset {era}:" in plan.stdout and "--inference-mode" in plan.stdout
    assert tree(project) == before  # a dry run writes nothing

    old = {test: content(project, test) for test in (OLLAMA, GPT, VLLM)}
    result = invoke(OLLAMA, GPT, VLLM)
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.stderr.splitlines() if line.startswith("running")] == [
        "running 1 of 3",
        "running 2 of 3",
        "running 3 of 3",
    ]
    # Each run produced exactly its selected id: one chat call per test, with that setup's model.
    models = [seen.body["model"] for seen in server.seen if seen.path.endswith("/chat/completions")]
    assert models == ["ollama/llama3.2:3b-instruct-fp16", "openai/gpt-4o", "vllm/Qwen/Qwen3-0.6B"]
    for test in (OLLAMA, GPT, VLLM):
        assert old[test].startswith("Hello from the fake server") and content(project, test).startswith("Re-recorded")
    after = tree(project)
    changed = sorted(path for path in after if after[path] != before.get(path))
    # The selected tests' recordings, and the model list the stack records at start-up (its URL has a new port).
    expected = [path for test in (OLLAMA, GPT, VLLM, None) for path in by_test(project)[test]]
    assert changed == sorted(expected)
    assert not (project / ".fixtures").exists()


@pytest.mark.parametrize("failing", ["first run", "last run"])
def test_a_failed_run_leaves_every_file_byte_for_byte(
    project: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    before = tree(project)
    server.behaviour.models = ["a-new-model"]  # the shared model list changes at stack start-up
    monkeypatch.setenv("MINI_FAIL", "ollama" if failing == "first run" else "vllm")
    result = invoke(OLLAMA, OLLAMA_SKY, GPT, VLLM)
    assert result.exit_code == 1, result.output
    assert "the recordings are as they were" in result.stderr
    assert (failing == "first run") == ("running 2 of 3" not in result.stderr)  # the runs after a failure never start
    assert tree(project) == before
    assert minisuite.git(project, "status", "--porcelain") == ""
    # What the run wrote is in the trash, not lost: the shared model list it made among it.
    trashed = [path.read_bytes() for path in (project / ".git" / "fixtures-trash").rglob("*.trashed")]
    assert any(b"a-new-model" in data for data in trashed)


WRITERS = {
    # A new recording of a test that is not selected.
    "new file of another test": (
        "tests/integration/inference/recordings/" + "ab" * 32 + ".json",
        json.dumps({"test_id": f"{CHAT}::test_someone_else", "request": {}, "response": {}}),
    ),
    # An existing recording of a test that is not selected, rewritten.
    "rewrite of another test's file": ("<vllm>", None),
    # A file that names no test: in doubt, so it goes to the trash and comes back with `prune --restore`.
    "file without a test id": ("tests/integration/inference/recordings/notes.json", '{"note": "mine"}'),
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_files_another_process_writes_during_a_failed_run_survive(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    before = tree(project)
    target, text = WRITERS[kind]
    if target == "<vllm>":
        [target] = by_test(project)[VLLM]
        raw = json.loads((project / target).read_bytes())
        raw["response"]["body"]["__data__"]["choices"][0]["message"]["content"] = "edited by someone else"
        text = json.dumps(raw, indent=2) + "\n"
    assert text is not None
    sync = tmp_path / "sync"
    sync.mkdir()
    monkeypatch.setenv("MINI_FAIL", "ollama")
    monkeypatch.setenv("MINI_SYNC", str(sync))
    script = f"import pathlib; pathlib.Path({str(project / target)!r}).write_text({text!r})"

    def other_process() -> None:
        deadline = time.monotonic() + 30
        while not (sync / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        subprocess.run([sys.executable, "-c", script], check=True)
        (sync / "go").touch()

    writer = threading.Thread(target=other_process)
    writer.start()
    result = invoke(OLLAMA)
    writer.join()
    assert result.exit_code == 1, result.output
    after = tree(project)
    if kind == "file without a test id":
        assert target not in after and after == before  # moved to the trash: in doubt, never unlinked
        back = CliRunner().invoke(app, ["prune", "--restore"], catch_exceptions=False)
        assert back.exit_code == 0, back.output
        assert (project / target).read_text() == text
    else:
        assert (project / target).read_text() == text  # left as the other process wrote it
        assert f"kept (written by another process during the run): {target}" in result.stderr
        assert {path: digest for path, digest in after.items() if path != target} == {
            path: digest for path, digest in before.items() if path != target
        }


def test_an_id_no_setup_produces_is_reported_and_skipped(project: Path) -> None:
    """A recording made with `--text-model=ollama/other` by hand: no setup gives that model."""
    [path] = by_test(project)[OLLAMA]
    raw = json.loads((project / path).read_bytes())
    stray = OLLAMA.replace("llama3.2:3b-instruct-fp16", "other-model")
    raw["test_id"] = stray
    builders.write_recording((project / path).with_name("cd" * 32 + ".json"), raw)
    alone = invoke(stray, "--dry-run")
    assert alone.exit_code == 2
    [line] = alone.stderr.splitlines()
    assert line.startswith(f"error: {stray}: no setup of tests/integration/suites.py gives its parameters")
    assert "[tool.fixtures.rerecord] command" in line
    mixed = invoke(stray, VLLM, "--dry-run")
    assert mixed.exit_code == 0 and "--setup=vllm" in mixed.stdout and "other-model" not in mixed.stdout.split("$")[1]
    assert "no setup of tests/integration/suites.py gives its parameters [txt=ollama/other-model]" in mixed.stderr


def test_explicit_command_wins_and_is_one_run(project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.fixtures.rerecord]\ncommand = ["pytest", "--setup=vllm", "{node_ids}"]\n'
    )
    plan = invoke(VLLM, "--dry-run")
    assert plan.exit_code == 0, plan.output
    [command] = [line for line in plan.stdout.splitlines() if line.startswith("  $ ")]
    assert "pytest --setup=vllm --inference-mode=record --" in command
    assert "one run: [tool.fixtures.rerecord] command" in plan.stdout


NEW_TEST = "tests/integration/inference/test_greeting.py"
NEW_TESTS = """def test_greeting(recorder, text_model_id):
    assert recorder.chat(text_model_id, "good morning")["choices"][0]["message"]["content"]
"""


def test_a_test_never_recorded_is_explained_then_recorded_by_the_printed_command(
    project: Path, server: FakeServer, era: str, tmp_path: Path
) -> None:
    """From a replay run's log to a passing replay: `explain` says the new test was never recorded and prints
    `fixtures rerecord <id>` with the setup the preset chose; that command, run, records it (through the fake
    server) with that setup; the replay then passes."""
    (project / NEW_TEST).write_text(NEW_TESTS)
    new_id = f"{NEW_TEST}::test_greeting[txt=ollama/llama3.2:3b-instruct-fp16]"
    env = {"MINI_FAKE_URL": server.url, "PYTHONDONTWRITEBYTECODE": "1"}
    extra = [f"--embedding-model={minisuite.EMBEDDING_FOR_CI}"] if era == "ogx" else []
    failed = minisuite.pytest_run(project, "-v", "--setup=ollama", *extra, NEW_TEST, env=env)
    assert failed.returncode == 1 and "Recording not found for request hash" in failed.stdout, failed.stdout
    log = tmp_path / "replay.log"
    log.write_text(failed.stdout)

    explained = CliRunner().invoke(app, ["explain", str(log), "--json"], catch_exceptions=False)
    assert explained.exit_code == 1, explained.output
    [line] = [json.loads(text) for text in explained.stdout.splitlines()]
    assert (line["test_id"], line["cause"]) == (new_id, "never-recorded")
    assert line["fix"] == [f"fixtures rerecord {shlex.quote(new_id)}"]
    assert line["setup"] == "ollama"
    words = shlex.split(line["record_command"])
    assert "--setup=ollama" in words and "--inference-mode=record" in words and words[-2:] == ["--", new_id]
    human = CliRunner().invoke(app, ["explain", str(log)], catch_exceptions=False).stdout
    assert f"fix       fixtures rerecord {shlex.quote(new_id)}" in human
    assert "(setup ollama, as the preset chose for this id)" in human

    dry = invoke(*shlex.split(line["fix"][0])[2:], "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"{new_id}  (no recording yet: the run records it)" in dry.stdout
    assert "covering 0 recordings and 1 test not recorded yet" in dry.stdout
    recorded = invoke(*shlex.split(line["fix"][0])[2:])
    assert recorded.exit_code == 0, recorded.output
    assert [seen.body["model"] for seen in server.seen if seen.path.endswith("/chat/completions")] == [
        "ollama/llama3.2:3b-instruct-fp16"
    ]
    assert len(by_test(project)[new_id]) == 1
    replayed = minisuite.pytest_run(project, "--setup=ollama", *extra, NEW_TEST, env=env)
    assert replayed.returncode == 0, replayed.stdout


@pytest.mark.usefixtures("project")
def test_a_node_id_with_no_recording_must_name_a_test_that_is_there() -> None:
    missing = f"{CHAT}::test_nothing_here[txt=ollama/llama3.2:3b-instruct-fp16]"
    alone = invoke(missing)
    assert alone.exit_code == 2, alone.output
    assert alone.stderr.splitlines()[0] == (
        f"{missing!r}: no recording matches it, and {CHAT} defines no function test_nothing_here"
    )
    for hostile in ("--basetemp=/tmp/x::y", "../outside/test_x.py::test_y"):
        refused = invoke("--dry-run", "--", hostile, VLLM)
        assert refused.exit_code == 0 and "--basetemp" not in refused.stdout and "outside" not in refused.stdout
        assert "no recording matches it, and it may not be given to pytest" in refused.stderr
    # The http runner resends recordings: a test without any has nothing to resend.
    http = invoke(missing, "--runner", "http", "--dry-run")
    assert "nothing to resend" in http.stderr


def test_a_test_selected_without_recordings_that_records_nothing_is_said(project: Path) -> None:
    (project / NEW_TEST).write_text("def test_quiet(recorder, text_model_id):\n    pass\n")
    quiet = f"{NEW_TEST}::test_quiet[txt=vllm/Qwen/Qwen3-0.6B]"
    result = invoke(quiet)
    assert result.exit_code == 1, result.output
    assert f"{quiet!r}: not recorded: the run wrote no recording of it" in result.stderr
    assert quiet not in by_test(project)


def test_a_failed_run_of_a_test_given_without_parameters_leaves_every_file_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files it wrote name its parametrizations (`test_greeting[txt=...]`): they are the run's, and go."""
    (project / NEW_TEST).write_text(NEW_TESTS)
    before = tree(project)
    monkeypatch.setenv("MINI_FAIL", "test_greeting")
    result = invoke(f"{NEW_TEST}::test_greeting")
    assert result.exit_code == 1, result.output
    assert "--setup=ollama" in result.stderr and "kept (written by another process" not in result.stderr
    assert tree(project) == before
    trashed = [path.read_bytes() for path in (project / ".git" / "fixtures-trash").rglob("*.trashed")]
    assert any(b"test_greeting[txt=ollama" in data for data in trashed)


def test_a_test_given_without_parameters_is_recorded_with_the_setup_ci_runs_its_suite_with(project: Path) -> None:
    (project / NEW_TEST).write_text(NEW_TESTS)
    result = invoke(f"{NEW_TEST}::test_greeting")
    assert result.exit_code == 0, result.output
    recorded = [test for test in by_test(project) if test and test.startswith(NEW_TEST)]
    assert recorded == [f"{NEW_TEST}::test_greeting[txt=ollama/llama3.2:3b-instruct-fp16]"]
