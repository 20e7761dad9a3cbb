"""`fixtures rerecord --runner pytest` on a project in tmp_path whose conftest implements the upstream
record/replay contract (OGX mode variable and `--inference-mode`, hash-named files in a `recordings` folder beside
each test file), driven through a real pytest subprocess: success, a failing run, a killed run, an interrupt."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llm_fixtures.app import app
from llm_fixtures.errors import ConfigError, UsageError
from llm_fixtures.rerecording.recordmode import Preset, choose_preset
from llm_fixtures.rerecording.runs import command_run
from llm_fixtures.rerecording.suitedefs import read_conftest
from llm_fixtures.settings import RerecordSettings

CONFTEST = """
import hashlib, json, os
from pathlib import Path

import pytest


def pytest_addoption(parser):
    parser.addoption("--inference-mode", default="replay")


def pytest_configure(config):
    # As OGX does: the option (default replay) overwrites the variable.
    os.environ["OGX_TEST_INFERENCE_MODE"] = config.getoption("--inference-mode")


class Recorder:
    def __init__(self, test_id):
        self.test_id = test_id
        self.folder = Path(test_id.split("::")[0]).parent / "recordings"

    def call(self, body):
        key = {"method": "POST", "endpoint": "/v1/chat/completions", "body": body, "test_id": self.test_id}
        name = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        path = self.folder / f"{name}.json"
        if os.environ["OGX_TEST_INFERENCE_MODE"] == "replay":
            if not path.exists():
                raise RuntimeError(f"Recording not found for request hash: {name}")
            return json.loads(path.read_text())["response"]["body"]["__data__"]
        answer = {"id": "rec-" + name[:12], "choices": [{"index": 0, "message": {"role": "assistant",
                  "content": os.environ.get("DEMO_ANSWER", "v1") + ": " + body["messages"][0]["content"]}}],
                  "created": 0, "model": body["model"], "object": "chat.completion",
                  "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
        recording = {
            "test_id": self.test_id,
            "request": {"method": "POST", "url": "http://localhost:11434/v1/v1/chat/completions", "headers": {},
                        "body": body, "endpoint": "/v1/chat/completions", "model": body["model"]},
            "response": {"body": {"__type__": "openai.types.chat.chat_completion.ChatCompletion",
                                  "__data__": answer}, "is_streaming": False},
            "id_normalization_mapping": {},
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(recording, indent=2) + "\\n")
        return answer


@pytest.fixture
def recorder(request):
    return Recorder(request.node.nodeid)
"""

TESTS = """
import os, signal, time

import pytest


def ask(recorder, text):
    return recorder.call({"model": "m", "messages": [{"role": "user", "content": text}]})


def test_hello(recorder):
    if os.environ.get("DEMO_SKIP") and os.environ["OGX_TEST_INFERENCE_MODE"] == "record":
        pytest.skip("no API key for this provider")
    assert ask(recorder, "hello")["choices"][0]["message"]["content"].endswith("hello")


@pytest.mark.parametrize("n", [1, 2])
def test_param(recorder, n):
    ask(recorder, f"question {n} " + os.environ.get("DEMO_QUESTION", "a"))


def test_two_calls(recorder):
    ask(recorder, "first")
    ask(recorder, "second")
    if os.environ.get("DEMO_FAIL") and os.environ["OGX_TEST_INFERENCE_MODE"] == "record":
        assert False, "injected failure after writing"
    if os.environ.get("DEMO_KILL") and os.environ["OGX_TEST_INFERENCE_MODE"] == "record":
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("DEMO_SLEEP") and os.environ["OGX_TEST_INFERENCE_MODE"] == "record":
        time.sleep(float(os.environ["DEMO_SLEEP"]))
"""

TEST_FILE = "tests/integration/chat/test_chat.py"
RECORDINGS = "tests/integration/chat/recordings"


def _pytest(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project with every test recorded once (answer v1, question a); built once, copied per test."""
    root = tmp_path_factory.mktemp("demo")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\n\n[tool.fixtures.rerecord]\n'
        'command = ["{python}", "-m", "pytest", "-q", "-p", "no:cacheprovider", "{node_ids}"]\n'
    )
    (root / "tests" / "integration" / "chat").mkdir(parents=True)
    (root / "tests" / "integration" / "conftest.py").write_text(CONFTEST)
    (root / TEST_FILE).write_text(TESTS)
    done = _pytest(root, "--inference-mode", "record", "tests/integration")
    assert done.returncode == 0, done.stdout
    assert _pytest(root, "tests/integration").returncode == 0  # replay works
    return root


@pytest.fixture
def project(recorded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(recorded, root)
    for name in (
        "DEMO_ANSWER",
        "DEMO_QUESTION",
        "DEMO_FAIL",
        "DEMO_KILL",
        "DEMO_SLEEP",
        "DEMO_SKIP",
        "OGX_TEST_INFERENCE_MODE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / RECORDINGS).glob("*.json"))}


def _test_ids(files: dict[str, bytes]) -> dict[str, str]:
    return {name: json.loads(data)["test_id"] for name, data in files.items()}


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["rerecord", *args], catch_exceptions=False)


def test_rerecord_changes_adds_and_supersedes(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _files(project)
    assert len(before) == 5
    monkeypatch.setenv("DEMO_ANSWER", "v2")
    monkeypatch.setenv("DEMO_QUESTION", "b")  # test_param now asks something else: new names
    result = invoke(f"{TEST_FILE}::test_hello", f"{TEST_FILE}::test_param", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_status: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_status.setdefault(line["status"], []).append(line)
    assert len(by_status["changed"]) == 1 and "content" in by_status["changed"][0]["changes"]
    assert len(by_status["new"]) == 2 and len(by_status["superseded"]) == 2
    # Paired by test as `diff` pairs them: the request changed (so the name did), and so did the answer.
    for line in by_status["new"] + by_status["superseded"]:
        assert "request" in line["changes"] and "content" in line["changes"]
    assert "outside" not in by_status
    after = _files(project)
    assert len(after) == 7
    # test_two_calls was not selected: untouched.
    untouched = [name for name, test in _test_ids(before).items() if test.endswith("test_two_calls")]
    assert all(after[name] == before[name] for name in untouched)
    assert "backed up 3 recordings of 3 tests and 2 other files" in result.stderr
    assert "OGX_TEST_INFERENCE_MODE=record" in result.stderr and "--inference-mode=record" in result.stderr
    assert not list((project / ".fixtures").glob("backup-*"))


def test_prune_superseded_removes_them_reversibly(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_QUESTION", "c")
    result = invoke(f"{TEST_FILE}::test_param", "--prune-superseded")
    assert result.exit_code == 0, result.output
    assert "before the run → after the run: 2 pairs" in result.stdout  # the `fixtures diff` of the run
    assert "request" in result.stdout and "question 1 c" in result.stdout
    assert "removed 2 superseded" in result.stderr
    after = _files(project)
    assert len(after) == 5
    assert all("question" not in test for test in _test_ids(after).values())
    params = [json.loads(data)["request"]["body"]["messages"][0]["content"] for data in after.values()]
    assert sorted(p for p in params if p.startswith("question")) == ["question 1 c", "question 2 c"]


def test_a_skipped_test_supersedes_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _files(project)
    monkeypatch.setenv("DEMO_SKIP", "1")
    monkeypatch.setenv("DEMO_QUESTION", "d")
    result = invoke(f"{TEST_FILE}::test_hello", f"{TEST_FILE}::test_param", "--prune-superseded")
    assert result.exit_code == 1
    assert "not re-recorded" in result.stdout and "their tests wrote nothing" in result.stderr
    after = _files(project)
    hello = [name for name, test in _test_ids(before).items() if test.endswith("::test_hello")]
    assert len(hello) == 1 and after[hello[0]] == before[hello[0]]  # kept, not pruned
    assert "removed 2 superseded" in result.stderr  # test_param's old requests were pruned


@pytest.mark.parametrize("injected", ["DEMO_FAIL", "DEMO_KILL"])
def test_failed_or_killed_run_restores_every_byte(
    project: Path, monkeypatch: pytest.MonkeyPatch, injected: str
) -> None:
    before = _files(project)
    stamps = {p.name: p.stat().st_mtime_ns for p in (project / RECORDINGS).glob("*.json")}
    monkeypatch.setenv("DEMO_ANSWER", "v2")
    monkeypatch.setenv("DEMO_QUESTION", "z")
    monkeypatch.setenv(injected, "1")
    result = invoke(f"{TEST_FILE}::test_two_calls", f"{TEST_FILE}::test_param")
    assert result.exit_code == 1
    assert "the recordings are as they were" in result.stderr
    assert _files(project) == before
    assert {p.name: p.stat().st_mtime_ns for p in (project / RECORDINGS).glob("*.json")} == stamps
    assert not list((project / ".fixtures").glob("backup-*"))


def test_keep_partial_keeps_what_the_failed_run_wrote(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _files(project)
    monkeypatch.setenv("DEMO_ANSWER", "v3")
    monkeypatch.setenv("DEMO_FAIL", "1")
    result = invoke(f"{TEST_FILE}::test_two_calls", "--keep-partial")
    assert result.exit_code == 1
    assert "--keep-partial" in result.stderr
    after = _files(project)
    changed = [name for name in before if after[name] != before[name]]
    assert len(changed) == 2 and all(b"v3: " in after[name] for name in changed)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_run_restores(project: Path, how: str) -> None:
    before = _files(project)
    env = {**os.environ, "DEMO_ANSWER": "v9", "DEMO_SLEEP": "30", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "llm_fixtures", "rerecord", f"{TEST_FILE}::test_two_calls"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # Started in the background (`nohup`, `&`), this test runs with SIGINT ignored, and a child inherits
        # that: give `fixtures` the default handler, as a shell in the foreground would.
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _files(project) == before:
        time.sleep(0.05)
    assert _files(project) != before, "the record run never wrote"
    if how == "ctrl-c":
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    else:
        process.send_signal(signal.SIGTERM)  # only fixtures itself: it stops the tests and restores
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "was interrupted" in err
    assert _files(project) == before


def test_dry_run_lists_tests_and_tokens(project: Path) -> None:
    before = _files(project)
    result = invoke("--test", "test_param", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"{TEST_FILE}::test_param[1]" in result.stdout and f"{TEST_FILE}::test_param[2]" in result.stdout
    assert "2 tests in 1 run in record mode, covering 2 recordings; 14 tokens last time" in result.stdout
    assert _files(project) == before


def test_review_stages_a_record_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _files(project)
    monkeypatch.setenv("DEMO_ANSWER", "v5")
    result = invoke(f"{TEST_FILE}::test_hello", "--review")
    assert result.exit_code == 0, result.output
    assert "staged for review" in result.stderr
    assert _files(project) == before
    accepted = invoke("--accept", f"{TEST_FILE}::test_hello")
    assert accepted.exit_code == 0 and "accepted 1" in accepted.stderr
    after = _files(project)
    assert [name for name in before if after[name] != before[name]] and len(after) == len(before)


# --- the command line of the record run ------------------------------------------------------------------

OGX = Preset("ogx", {"OGX_TEST_INFERENCE_MODE": "record"}, ("--inference-mode=record",))
LLAMA_STACK = Preset("llama-stack", {"LLAMA_STACK_TEST_INFERENCE_MODE": "record"})


@pytest.mark.parametrize(
    ("settings", "preset", "argv", "env"),
    [
        (
            RerecordSettings(),
            OGX,
            ["pytest", "--inference-mode=record", "--", "t.py::a", "t.py::b"],
            {"OGX_TEST_INFERENCE_MODE": "record"},
        ),
        (
            RerecordSettings(),
            LLAMA_STACK,
            ["pytest", "--", "t.py::a", "t.py::b"],
            {"LLAMA_STACK_TEST_INFERENCE_MODE": "record"},
        ),
        (
            RerecordSettings(command=["{python}", "-m", "pytest", "-x"], env={"MODE": "record"}),
            None,
            ["PY", "-m", "pytest", "-x", "--", "t.py::a", "t.py::b"],
            {"MODE": "record"},
        ),
        (
            # Not pytest, and the ids are not last: no `--`, which would turn `--flag` into an argument.
            RerecordSettings(command=["run-tests", "{node_ids}", "--flag"]),
            OGX,
            ["run-tests", "--inference-mode=record", "t.py::a", "t.py::b", "--flag"],
            {"OGX_TEST_INFERENCE_MODE": "record"},
        ),
        (
            RerecordSettings(command=["pytest", "--inference-mode", "live"]),
            OGX,
            ["pytest", "--inference-mode", "live", "--", "t.py::a", "t.py::b"],
            {"OGX_TEST_INFERENCE_MODE": "record"},
        ),
        (
            RerecordSettings(env={"OGX_TEST_INFERENCE_MODE": "record-if-missing"}),
            OGX,
            ["pytest", "--inference-mode=record", "--", "t.py::a", "t.py::b"],
            {"OGX_TEST_INFERENCE_MODE": "record-if-missing"},
        ),
    ],
)
def test_command_run(settings: RerecordSettings, preset: Preset | None, argv: list[str], env: dict[str, str]) -> None:
    run = command_run(settings, preset, ["t.py::a", "t.py::b"], "PY")
    assert (run.argv, run.env) == (argv, env)


def test_a_run_needs_a_record_mode() -> None:
    with pytest.raises(UsageError, match="record mode"):
        command_run(RerecordSettings(), None, ["t.py::a"], "PY")
    with pytest.raises(ConfigError, match="preset"):
        choose_preset(RerecordSettings(preset="nope"), None, Path())


@pytest.mark.parametrize(
    ("conftest", "name", "args"),
    [
        # The era from September 2025: the option (default replay) overwrites the variable.
        (
            'def pytest_addoption(parser):\n    parser.addoption("--inference-mode", default="replay")\n'
            'def pytest_configure(config):\n    mode = config.getoption("--inference-mode")\n'
            '    os.environ["LLAMA_STACK_TEST_INFERENCE_MODE"] = mode\n',
            "llama-stack",
            ("--inference-mode=record",),
        ),
        # Before: the recorder read the variable alone.
        ('if "LLAMA_STACK_TEST_INFERENCE_MODE" not in os.environ: pass\n', "llama-stack", ()),
        (
            'def pytest_addoption(parser):\n    parser.addoption("--inference-mode", default="replay")\n'
            'def pytest_configure(config):\n    os.environ["OGX_TEST_INFERENCE_MODE"] = '
            'config.getoption("--inference-mode")\n',
            "ogx",
            ("--inference-mode=record",),
        ),
    ],
)
def test_preset_follows_what_the_conftest_does(tmp_path: Path, conftest: str, name: str, args: tuple[str, ...]) -> None:
    assert choose_preset(RerecordSettings(), None, tmp_path) is None
    (tmp_path / "tests" / "integration").mkdir(parents=True)
    (tmp_path / "tests" / "integration" / "conftest.py").write_text(conftest)
    found = read_conftest(tmp_path, "tests/integration/conftest.py", [])
    preset = choose_preset(RerecordSettings(), found, tmp_path)
    assert preset is not None and (preset.name, preset.args) == (name, args)
    assert preset.why and "tests/integration/conftest.py" in preset.why[0]
