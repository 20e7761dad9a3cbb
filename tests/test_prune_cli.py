"""`fixtures prune` end to end: a real project in tmp_path with test files, recordings and a git repository."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import builders
from diffkit import commit_all, git
from llm_fixtures.app import app

SUITE = "tests/integration/chat"
CHAT = f"{SUITE}/test_chat.py"
GONE = f"{SUITE}/test_gone.py"

CHAT_SOURCE = """import pytest


@pytest.mark.parametrize("model", ["a", "b"])
def test_hello(model):
    assert model


def test_plain():
    pass


class TestGroup:
    def test_method(self):
        pass
"""

# After the edit: test_plain deleted, parameter "b" dropped.
CHAT_EDITED = """import pytest


@pytest.mark.parametrize("model", ["a"])
def test_hello(model):
    assert model


class TestGroup:
    def test_method(self):
        pass
"""


def recording(test_id: str | None, *, content: str = "hi", models: bool = False) -> dict[str, object]:
    endpoint = "/v1/models" if models else "/v1/chat/completions"
    body: object
    if models:
        body = [builders.typed(builders.MODEL, {"id": "m", "object": "model"})]
    else:
        data = {"id": "rec-1", "choices": [], "created": 0, "model": "m", "object": "chat.completion"}
        body = builders.typed(builders.CHAT_COMPLETION, data)
    request_body = {"model": "m", "messages": [{"role": "user", "content": content}]}
    request = builders.sdk_request(f"http://localhost:11434/v1{endpoint}", endpoint, request_body)
    document = builders.recording(request, body, test_id=test_id)
    return document if test_id is not None else builders.without_test_id(document)


def write_recording(folder: Path, test_id: str | None, *, content: str = "hi", models: bool = False) -> str:
    """Write a recording named by a hash of its content (names need not verify for these tiers)."""
    document = recording(test_id, content=content, models=models)
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    name = f"models-{digest}-0123abcd.json" if models else f"{digest}.json"
    builders.write_recording(folder / name, document)
    return name


class Project:
    """The fixture project and the names of its recordings."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rec = root / SUITE / "recordings"
        self.names: dict[str, str] = {}

    def path(self, key: str) -> str:
        return self.names[key]

    def add(self, key: str, test_id: str | None, *, suite: str = SUITE, models: bool = False) -> None:
        name = write_recording(self.root / suite / "recordings", test_id, content=key, models=models)
        self.names[key] = f"{suite}/recordings/{name}"


def build_project(root: Path) -> Project:
    # A partial collection: the broken suite is not covered (and would fail to collect).
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", SUITE]
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[tool.fixtures.prune]\ncollect = [{json.dumps(collect)}]\n\n[tool.pytest.ini_options]\naddopts = ""\n'
    )
    (root / SUITE).mkdir(parents=True)
    (root / CHAT).write_text(CHAT_SOURCE)
    (root / GONE).write_text("def test_x():\n    pass\n")
    (root / "tests/integration/broken").mkdir(parents=True)
    (root / "tests/integration/broken/test_broken.py").write_text("def test_ok():\n    pass\n")
    project = Project(root)
    project.add("hello_a", f"{CHAT}::test_hello[a]")
    project.add("hello_b", f"{CHAT}::test_hello[b]")
    project.add("hello_b_models", f"{CHAT}::test_hello[b]", models=True)
    project.add("plain", f"{CHAT}::test_plain")
    project.add("method", f"{CHAT}::TestGroup::test_method")
    project.add("gone", f"{GONE}::test_x")
    project.add("gone_models", f"{GONE}::test_x", models=True)
    project.add("shared", None)
    project.add("escape", "../../outside/test_secret.py::test_x")
    project.add("broken", "tests/integration/broken/test_broken.py::test_gone", suite="tests/integration/broken")
    git(root, "init", "-q")
    commit_all(root, "init")
    # Then the tests change: a test file deleted, a function deleted, a parametrization dropped; a test file
    # broken; and one recording of the deleted function was never committed.
    (root / GONE).unlink()
    (root / CHAT).write_text(CHAT_EDITED)
    (root / "tests/integration/broken/test_broken.py").write_text("def test_ok(:\n")
    project.add("plain_untracked", f"{CHAT}::test_plain")
    return project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    built = build_project(tmp_path / "proj")
    monkeypatch.chdir(built.root)
    return built


def prune(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["prune", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def json_rows(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


STATIC = {"gone", "gone_models", "plain", "plain_untracked"}


def test_static_finds_gone_file_and_function(runner: CliRunner, project: Project) -> None:
    bad = project.root / "tests/integration/broken/recordings/bad.json"
    bad.write_text("{not json")
    code, out, err = prune(runner, "--json")
    assert code == 1  # an unreadable recording: reported, left alone, and the exit code says so
    rows = json_rows(out)
    assert {row["path"] for row in rows} == {project.path(key) for key in STATIC}
    assert all(set(row) == {"path", "test_id", "reason", "bytes"} for row in rows)
    reasons = {row["path"]: row["reason"] for row in rows}
    assert reasons[project.path("gone")] == "test file gone"
    assert reasons[project.path("gone_models")] == "test file gone"
    assert reasons[project.path("plain")] == "function test_plain gone"
    assert all(row["bytes"] == (project.root / str(row["path"])).stat().st_size for row in rows)
    # Left alone, and said so: the unparsable test file, the escaping test id, the unreadable file.
    assert "test_broken.py" in err and "does not parse" in err
    assert "outside the project" in err
    assert "bad.json" in err
    assert bad.exists()


def test_human_listing_groups_by_test_file_with_totals_and_next_command(runner: CliRunner, project: Project) -> None:
    code, out, _ = prune(runner)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{CHAT}: function test_plain gone (2 recordings")
    assert any(line.startswith(f"{GONE}: test file gone (2 recordings") for line in lines)
    for key in STATIC:
        assert any(project.path(key) in line for line in lines)
    assert "4 orphans" in lines[-2] and "in 2 test files" in lines[-2]
    assert lines[-1] == "next: fixtures prune --delete"


def test_collect_adds_dropped_parametrization(runner: CliRunner, project: Project, cache_home: Path) -> None:
    code, out, err = prune(runner, "--collect", "--json")
    assert code == 0, err
    rows = {str(row["path"]): row["reason"] for row in json_rows(out)}
    assert set(rows) == {project.path(key) for key in STATIC | {"hello_b"}}
    assert rows[project.path("hello_b")] == "parametrization no longer collected"
    # The model list of that test is kept (replay merges every model list); the cached run gives the same.
    code, again, _ = prune(runner, "--collect", "--json")
    assert (code, again) == (0, out)
    cache = list((cache_home / "llm-fixtures").glob("collect-*.json"))
    assert len(cache) == 1


def test_failing_collection_deletes_nothing(runner: CliRunner, project: Project) -> None:
    (project.root / SUITE / "test_syntax.py").write_text("import nonexistent_module_xyz\n")
    before = sorted(p.name for p in project.rec.iterdir())
    code, out, err = prune(runner, "--collect", "--delete", "--yes")
    assert code == 2
    assert out == ""
    assert "collection" in err and "failed" in err and "nonexistent_module_xyz" in err
    assert sorted(p.name for p in project.rec.iterdir()) == before


@pytest.mark.usefixtures("project")
def test_check_exits_1_with_orphans_and_0_without(runner: CliRunner) -> None:
    assert prune(runner, "--check", "--json")[0] == 1
    assert prune(runner, "--delete", "--yes", "--json")[0] == 0
    code, out, err = prune(runner, "--check")
    assert (code, out) == (0, "")
    assert "no orphans" in err


def test_delete_without_terminal_or_yes_refuses(runner: CliRunner, project: Project) -> None:
    code, out, err = prune(runner, "--delete")
    assert (code, out) == (2, "")
    assert "--yes" in err
    assert all((project.root / project.path(key)).exists() for key in STATIC)


def test_delete_then_restore(runner: CliRunner, project: Project) -> None:
    before = {key: (project.root / project.path(key)).read_bytes() for key in project.names}
    code, out, err = prune(runner, "--delete", "--yes")
    assert code == 0
    assert "removed 4 recordings: 3 deleted (git has them), 1 moved to" in err
    for key, data in before.items():
        path = project.root / project.path(key)
        assert path.exists() == (key not in STATIC), key
        if path.exists():
            assert path.read_bytes() == data
    status = git(project.root, "status", "--porcelain")
    assert f" D {project.path('gone')}" in status
    assert "plain_untracked" not in status and project.names["plain_untracked"] not in status
    code, out, err = prune(runner, "--restore")
    assert code == 0
    assert "restored 4 recordings" in err
    assert sorted(out.split()) == sorted(project.path(key) for key in STATIC)
    for key in STATIC:
        assert (project.root / project.path(key)).read_bytes() == before[key]
    assert prune(runner, "--restore")[2].strip() == "nothing to restore: no trash batch"


def test_delete_asks_in_a_terminal(runner: CliRunner, project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import llm_fixtures.commands.prune as command

    monkeypatch.setattr(command, "stdin_is_terminal", lambda: True)
    result = runner.invoke(app, ["prune", "--delete"], input="\n", catch_exceptions=False)
    assert result.exit_code == 0
    assert "nothing deleted" in result.stderr
    assert all((project.root / project.path(key)).exists() for key in STATIC)
    result = runner.invoke(app, ["prune", "--delete"], input="y\n", catch_exceptions=False)
    assert result.exit_code == 0
    assert not any((project.root / project.path(key)).exists() for key in STATIC)


def test_unreachable_uses_check_verdicts(runner: CliRunner, project: Project) -> None:
    # These names are content hashes, not request hashes: every judged one is a mismatch, model lists excepted.
    code, out, _ = prune(runner, "--unreachable", "--json")
    assert code == 0
    rows = {str(row["path"]): str(row["reason"]) for row in json_rows(out)}
    assert rows[project.path("hello_a")].startswith("unreachable: mismatch")
    assert project.path("hello_b_models") not in rows
    assert project.path("shared") not in rows
    code, out, _ = prune(runner, "--unreachable", "--include-shared", "--json")
    assert project.path("shared") in {str(row["path"]) for row in json_rows(out)}


@pytest.mark.usefixtures("project")
def test_given_path_limits_the_scan(runner: CliRunner) -> None:
    code, out, _ = prune(runner, "tests/integration/broken", "--json")
    assert (code, out) == (0, "")


def test_sample_recordings_show_their_orphan(runner: CliRunner, samples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(samples)
    code, out, _ = prune(runner, "--json", "--check")
    assert code == 1
    rows = json_rows(out)
    assert [(Path(str(row["path"])).name[:8], row["reason"]) for row in rows] == [("0687abc0", "test file gone")]
    # The README's stale and mismatched names are the unreachable ones.
    code, out, _ = prune(runner, "--json", "--unreachable")
    reasons = {Path(str(row["path"])).name[:8]: str(row["reason"]) for row in json_rows(out)}
    assert set(reasons) == {"0687abc0", "0c7e89c3", "554f2a5d", "c5d91324"}
    assert reasons["0c7e89c3"].startswith("unreachable: mismatch name (replay looks for ")
    assert reasons["554f2a5d"].startswith("unreachable: stale name")


def test_corpus_static_prune_judges_by_test_file(
    runner: CliRunner, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The corpus holds recordings only (no test files), so every recording with a test id is an orphan whose
    # test file is gone, and the rest are shared; nothing else.
    monkeypatch.chdir(corpus / "llama-stack")
    code, out, _ = prune(runner, "--json")
    assert code == 0
    rows = json_rows(out)
    assert rows
    assert {row["reason"] for row in rows} == {"test file gone"}
    with_test_id = 0
    for path in Path().rglob("*.json"):
        document = json.loads(path.read_bytes())
        test_id = document.get("test_id") or (document.get("request") or {}).get("test_id")
        with_test_id += bool(test_id)
    assert len(rows) == with_test_id


def test_collect_cwd_must_be_a_folder(runner: CliRunner, project: Project) -> None:
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.fixtures.prune]\n", '[tool.fixtures.prune]\ncollect_cwd = "nope"\n')
    )
    code, out, err = prune(runner, "--collect")
    assert (code, out) == (2, "")
    assert "collect_cwd" in err


def test_include_shared_alone_says_it_does_nothing(runner: CliRunner, project: Project) -> None:
    code, out, err = prune(runner, "--include-shared", "--json")
    assert code == 0
    assert "--include-shared matters only with" in err
    assert project.path("shared") not in out


def test_orphan_behind_a_folder_link_out_of_the_project_is_not_removed(
    runner: CliRunner, project: Project, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "recordings"
    name = write_recording(elsewhere, "tests/integration/ext/test_gone.py::test_x")
    (project.root / "tests/integration/ext").mkdir()
    (project.root / "tests/integration/ext/recordings").symlink_to(elsewhere)
    code, out, err = prune(runner, "tests/integration/ext/recordings", "--delete", "--yes", "--json")
    assert code == 1
    assert [json.loads(line)["reason"] for line in out.splitlines()] == ["test file gone"]
    assert "not removed:" in err and "outside the project" in err
    assert "nothing removed" in err
    assert (elsewhere / name).exists()


def test_collect_leaves_deselected_tests_alone(runner: CliRunner, project: Project) -> None:
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'"{SUITE}"]', f'"{SUITE}", "-k", "not test_method"]'))
    code, out, err = prune(runner, "--collect", "--json")
    assert code == 0, err
    paths = {str(row["path"]) for row in json_rows(out)}
    assert paths == {project.path(key) for key in STATIC | {"hello_b"}}
