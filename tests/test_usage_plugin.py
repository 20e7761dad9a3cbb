"""The usage plugin (`pytest -p llm_fixtures.usage`) in a real pytest run, and `prune --unused-from`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import builders
from llm_fixtures.app import app
from llm_fixtures.usage import _Recorder

SUITE = "tests/integration/replay"
TESTS = f"{SUITE}/test_replay.py"

CONFTEST = """
import json
from pathlib import Path

import pytest

RECORDINGS = Path(__file__).parent / "recordings"


@pytest.fixture
def replay():
    def lookup(name):
        with open(RECORDINGS / f"{name}.json") as handle:
            return json.load(handle)

    return lookup
"""

TEST_SOURCE = """
import json
import os
from pathlib import Path

import pytest

REC = Path(__file__).parent / "recordings"


def test_open(replay):
    assert replay("a_current")["test_id"]


def test_pathlib():
    json.loads((REC / "d_pathlib.json").read_text())


def test_os_open():
    fd = os.open(REC / "e_osopen.json", os.O_RDONLY)
    os.close(fd)


def test_fails():
    assert False


def test_skipped():
    pytest.skip("not today")


@pytest.mark.parametrize("model", ["m1"])
def test_param(replay, model):
    replay("p_param")
"""


def recording(test_id: str | None, models: bool = False) -> dict[str, Any]:
    endpoint = "/v1/models" if models else "/v1/chat/completions"
    body: object = (
        [builders.typed(builders.MODEL, {"id": "m", "object": "model"})]
        if models
        else builders.typed(builders.CHAT_COMPLETION, {"id": "x", "choices": []})
    )
    request = builders.sdk_request(f"http://localhost:11434/v1{endpoint}", endpoint, {"model": "m"})
    document = builders.recording(request, body, test_id=test_id, mapping=False)
    return document if test_id else builders.without_test_id(document)


RECORDINGS = {
    "a_current": (f"{TESTS}::test_open", False),
    "a_stale": (f"{TESTS}::test_open", False),  # superseded: its test passed without reading it
    "a_models": (f"{TESTS}::test_open", True),  # model lists are never judged by usage
    "d_pathlib": (f"{TESTS}::test_pathlib", False),
    "e_osopen": (f"{TESTS}::test_os_open", False),
    "f_fail": (f"{TESTS}::test_fails", False),
    "g_skip": (f"{TESTS}::test_skipped", False),
    "p_param": (f"{TESTS}::test_param[m1]", False),
    "p_stale": (f"{TESTS}::test_param[m1]", False),  # superseded
    "s_shared": (None, False),
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    rec = root / SUITE / "recordings"
    rec.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = ""\n')
    (root / SUITE / "conftest.py").write_text(CONFTEST)
    (root / TESTS).write_text(TEST_SOURCE)
    for name, (test_id, models) in RECORDINGS.items():
        builders.write_recording(rec / f"{name}.json", recording(test_id, models))
    monkeypatch.chdir(root)
    return root


def run_pytest(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "OGX_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "llm_fixtures.usage", "-p", "no:cacheprovider", *args, SUITE],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_manifest_of_a_real_run(project: Path) -> None:
    manifest = project / "usage.json"
    done = run_pytest(project, "--fixtures-usage", str(manifest))
    assert done.returncode == 1, done.stdout + done.stderr  # test_fails fails
    assert f"fixtures usage manifest: {manifest}" in done.stdout
    document = json.loads(manifest.read_text())
    tests = document["tests"]
    rec = f"{SUITE}/recordings"
    assert tests[f"{TESTS}::test_open"] == {"outcome": "passed", "opened": [f"{rec}/a_current.json"]}
    assert tests[f"{TESTS}::test_pathlib"]["opened"] == [f"{rec}/d_pathlib.json"]
    assert tests[f"{TESTS}::test_os_open"]["opened"] == [f"{rec}/e_osopen.json"]
    assert tests[f"{TESTS}::test_fails"]["outcome"] == "failed"
    assert tests[f"{TESTS}::test_skipped"]["outcome"] == "skipped"
    assert tests[f"{TESTS}::test_param[m1]"] == {"outcome": "passed", "opened": [f"{rec}/p_param.json"]}
    assert document["root"] == str(project)


def test_unused_from_finds_exactly_the_superseded(project: Path, runner: CliRunner) -> None:
    manifest = project / "usage.json"
    run_pytest(project, "--fixtures-usage", str(manifest))
    result = runner.invoke(app, ["prune", "--unused-from", str(manifest), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {Path(row["path"]).stem: row["reason"] for row in rows} == {
        "a_stale": "superseded: its test passed without reading it",
        "p_stale": "superseded: its test passed without reading it",
    }
    result = runner.invoke(
        app, ["prune", "--unused-from", str(manifest), "--include-shared", "--json"], catch_exceptions=False
    )
    stems = {Path(json.loads(line)["path"]).stem for line in result.stdout.splitlines()}
    assert stems == {"a_stale", "p_stale", "s_shared"}
    result = runner.invoke(app, ["prune", "--unused-from", str(manifest), "--delete", "--yes"], catch_exceptions=False)
    assert result.exit_code == 0
    remaining = sorted(path.stem for path in (project / SUITE / "recordings").iterdir())
    assert remaining == sorted(set(RECORDINGS) - {"a_stale", "p_stale"})


def test_manifest_path_from_environment_and_default(project: Path) -> None:
    run_pytest(project, env={"FIXTURES_USAGE_MANIFEST": "from-env.json"})
    assert json.loads((project / "from-env.json").read_text())["tests"]
    run_pytest(project)
    assert json.loads((project / ".fixtures-usage.json").read_text())["tests"]


def test_record_mode_run_is_refused(project: Path, runner: CliRunner) -> None:
    manifest = project / "usage.json"
    run_pytest(project, "--fixtures-usage", str(manifest), env={"OGX_TEST_INFERENCE_MODE": "record"})
    result = runner.invoke(app, ["prune", "--unused-from", str(manifest)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "not a replay" in result.stderr


def test_run_that_read_nothing_is_refused(project: Path, runner: CliRunner) -> None:
    manifest = project / "usage.json"
    manifest.write_text(
        json.dumps({"format": "fixtures-usage/1", "root": str(project), "modes": {}, "tests": {}, "outside_tests": []})
    )
    result = runner.invoke(app, ["prune", "--unused-from", str(manifest)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "read no recording" in result.stderr
    result = runner.invoke(app, ["prune", "--unused-from", "missing.json"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "no such usage manifest" in result.stderr


def test_a_test_that_failed_in_another_run_is_not_judged(project: Path, runner: CliRunner) -> None:
    first = project / "one.json"
    run_pytest(project, "--fixtures-usage", str(first))
    second = project / "two.json"
    document = json.loads(first.read_text())
    document["tests"][f"{TESTS}::test_open"]["outcome"] = "failed"
    second.write_text(json.dumps(document))
    result = runner.invoke(
        app, ["prune", "--unused-from", str(first), "--unused-from", str(second), "--json"], catch_exceptions=False
    )
    stems = {Path(json.loads(line)["path"]).stem for line in result.stdout.splitlines()}
    assert stems == {"p_stale"}


@pytest.mark.parametrize(
    ("args", "counted"),
    [
        (("/p/recordings/a.json", "r", 0), True),
        (("/p/recordings/a.json", "rb", 0), True),
        (("/p/recordings/a.json", None, os.O_RDONLY), True),
        (("/p/recordings/a.json", "w", 0), False),
        (("/p/recordings/a.json", "r+", 0), False),
        (("/p/recordings/a.json", None, os.O_WRONLY | os.O_CREAT), False),
        (("/p/recordings/a.txt", "r", 0), False),
        (("/p/other/a.json", "r", 0), False),
        ((3, "r", 0), False),
        ((b"/p/recordings/a.json", "r", 0), True),
    ],
)
def test_audit_counts_reads_of_recordings_only(args: tuple[object, ...], counted: bool, tmp_path: Path) -> None:
    recorder = _Recorder(tmp_path / "m.json", Path("/p"))
    recorder.current = "t::x"
    recorder.audit("open", args)
    recorder.audit("exec", args)
    assert bool(recorder.opened) == counted
    recorder.active = False
    recorder.opened.clear()
    recorder.audit("open", ("/p/recordings/a.json", "r", 0))
    assert not recorder.opened


def test_worker_parts_are_merged_into_the_manifest(tmp_path: Path) -> None:
    from llm_fixtures.usage import _merge_parts

    controller = {"tests": {"t::a": {"outcome": "passed", "opened": []}}, "outside_tests": [], "modes": {}}
    part = tmp_path / "usage.json.gw0.part"
    part.write_text(
        json.dumps(
            {
                "tests": {"t::a": {"outcome": "passed", "opened": ["r/recordings/a.json"]}},
                "outside_tests": ["r/recordings/s.json"],
                "modes": {"OGX_TEST_INFERENCE_MODE": "replay"},
            }
        )
    )
    _merge_parts(controller, [part])
    assert controller == {
        "tests": {"t::a": {"outcome": "passed", "opened": ["r/recordings/a.json"]}},
        "outside_tests": ["r/recordings/s.json"],
        "modes": {"OGX_TEST_INFERENCE_MODE": "replay"},
    }
    assert not part.exists()
