"""`fixtures prune` of cassettes beyond the static tier: `--collect` (real `pytest --collect-only` runs) and
`--unused-from` with the manifest of the usage plugin (`pytest -p llm_fixtures.cassettes.usage`) in real pytest
runs recording through pytest-recording against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fakeserver import FakeServer
from llm_fixtures.app import app
from llm_fixtures.cassettes.evidence import BadManifest, read_cassette_manifests
from llm_fixtures.cassettes.naming import default_name, name_keys, owner_of, stem_key
from vcrkit import recorded_project, run_pytest

CHAT = """import os

import httpx
import pytest


def ask(question):
    answer = httpx.post(
        os.environ["FAKE_URL"] + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": question}]},
    )
    assert answer.status_code == 200
    return answer.json()


@pytest.mark.vcr
def test_hello():
    ask("hello")


@pytest.mark.vcr
def test_two():
    ask("first")
    if os.environ.get("MORE"):
        ask("second")


@pytest.mark.vcr
@pytest.mark.parametrize("word", WORDS)
def test_param(word):
    ask(word)


MARK
def test_mark_dropped():
    if os.environ.get("MORE"):
        ask("no mark")


class TestNested:
    @pytest.mark.vcr
    def test_method(self):
        ask("in a class")
"""
ROOT_FILES = "tests/cassettes/test_chat"
MANIFEST = "usage.json"


def write_tests(project: Path, words: str, mark: str) -> None:
    (project / "tests" / "test_chat.py").write_text(CHAT.replace("WORDS", words).replace("MARK", mark))


@pytest.fixture
def replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project recorded with pytest-recording (two requests in test_two, three parametrizations, a test that
    uses VCR), then changed (one parametrization gone, the VCR mark dropped, test_two makes one request) and
    replayed with the usage plugin: its manifest is `usage.json`."""
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"]
    pyproject = f"[tool.fixtures.prune]\ncollect = [{json.dumps(collect)}]\n"
    with FakeServer() as server:
        source = CHAT.replace("WORDS", '["a", "b/c", "d"]').replace("MARK", "@pytest.mark.vcr")
        recorded_project(tmp_path, source, pyproject, FAKE_URL=server.url, MORE="1")
        write_tests(tmp_path, '["a", "d"]', "")
        replay = run_pytest(
            tmp_path, "-p", "llm_fixtures.cassettes.usage", "--fixtures-cassette-usage", MANIFEST, FAKE_URL=server.url
        )
        assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"fixtures cassette usage manifest: {tmp_path / MANIFEST}" in replay.stdout
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def rows(output: str) -> dict[str, str]:
    return {row["path"]: row["reason"] for row in map(json.loads, output.splitlines())}


def test_the_manifest_says_what_each_test_loaded_and_played(replayed: Path) -> None:
    document = json.loads((replayed / MANIFEST).read_text())
    assert document["format"] == "fixtures-cassette-usage/1"
    assert document["tests"]["tests/test_chat.py::test_mark_dropped"] == {"outcome": "passed"}
    two = document["cassettes"][f"{ROOT_FILES}/test_two.yaml"]
    assert (two["interactions"], two["played"], two["tests"], two["modes"]) == (
        2,
        [0],
        ["tests/test_chat.py::test_two"],
        ["none"],
    )
    assert f"{ROOT_FILES}/test_mark_dropped.yaml" not in document["cassettes"]
    assert document["cassettes"][f"{ROOT_FILES}/TestNested.test_method.yaml"]["played"] == [0]


@pytest.mark.usefixtures("replayed")
def test_unused_from_finds_superseded_cassettes_and_notes_unplayed_interactions() -> None:
    result = invoke("prune", "--json", "--unused-from", MANIFEST)
    assert result.exit_code == 0, result.stderr
    assert rows(result.stdout) == {
        f"{ROOT_FILES}/test_mark_dropped.yaml": "superseded: its test passed without loading it",
    }
    assert f"{ROOT_FILES}/test_two.yaml  interaction 1 of 2" in result.stderr
    assert "test_hello.yaml" not in result.stderr
    human = invoke("prune", "--unused-from", MANIFEST)
    assert "tiers: static, unused" in human.stdout
    assert "next: fixtures prune --unused-from usage.json --delete" in human.stdout


def test_collect_finds_a_parametrization_no_longer_collected(replayed: Path) -> None:
    result = invoke("prune", "--json", "--collect")
    assert result.exit_code == 0, result.stderr
    # `b/c` is stored as `b-c` (pytest-recording's file name rule); the static tier keeps it (test_param exists).
    assert rows(result.stdout) == {f"{ROOT_FILES}/test_param[b-c].yaml": "parametrization no longer collected"}
    assert rows(invoke("prune", "--json").stdout) == {}
    both = rows(invoke("prune", "--json", "--collect", "--unused-from", MANIFEST).stdout)
    assert set(both) == {f"{ROOT_FILES}/test_param[b-c].yaml", f"{ROOT_FILES}/test_mark_dropped.yaml"}
    deleted = invoke("prune", "--collect", "--unused-from", MANIFEST, "--delete", "--yes")
    assert deleted.exit_code == 0
    assert not (replayed / ROOT_FILES / "test_param[b-c].yaml").exists()
    assert (replayed / ROOT_FILES / "test_param[a].yaml").exists()
    assert invoke("prune", "--restore").exit_code == 0
    assert (replayed / ROOT_FILES / "test_param[b-c].yaml").exists()


def test_a_cassette_changed_since_the_run_or_of_a_failed_test_is_not_judged(replayed: Path) -> None:
    two = replayed / ROOT_FILES / "test_two.yaml"
    two.write_bytes(two.read_bytes() + b"# edited\n")
    result = invoke("prune", "--unused-from", MANIFEST)
    assert "test_two.yaml" not in result.stdout + result.stderr.replace("changed since", "")
    assert "1 cassette changed since the replay run; not judged by it" in result.stderr
    document = json.loads((replayed / MANIFEST).read_text())
    document["tests"]["tests/test_chat.py::test_mark_dropped"]["outcome"] = "failed"
    (replayed / "failed.json").write_text(json.dumps(document))
    assert rows(invoke("prune", "--json", "--unused-from", "failed.json").stdout) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["options"].update({"--record-mode": "rewrite"}), "not a replay (--record-mode=rewrite)"),
        (lambda d: d["options"].update({"--disable-recording": True}), "--disable-recording"),
        (lambda d: d.update({"cassettes": {}}), "loaded no cassette at all"),
        (lambda d: d.update({"format": "fixtures-usage/1"}), "the run read no recording at all"),
        (
            lambda d: next(iter(d["cassettes"].values())).update({"played": [7]}),
            "`played` is not a list of positions below `interactions`",
        ),
        (lambda d: next(iter(d["cassettes"].values())).update({"sha256": "x"}), "`sha256` is not a SHA-256"),
    ],
)
def test_a_manifest_that_proves_nothing_is_refused_in_one_line(replayed: Path, change: Any, message: str) -> None:
    document = json.loads((replayed / MANIFEST).read_text())
    change(document)
    (replayed / "bad.json").write_text(json.dumps(document))
    result = invoke("prune", "--unused-from", "bad.json")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_evidence_reader_refuses_a_missing_or_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(BadManifest, match="no such usage manifest"):
        read_cassette_manifests([tmp_path / "nope.json"], tmp_path)
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(BadManifest, match="not a fixtures cassette usage manifest"):
        read_cassette_manifests([tmp_path / "list.json"], tmp_path)


def test_default_names_follow_pytest_recording() -> None:
    assert default_name("tests/a.py::TestX::test_y[a/b:c]") == "TestX.test_y[a-b-c]"
    assert default_name("tests/a.py::test_y[x::y]") == "test_y[x--y]"
    long_id = "tests/a.py::test_y[" + "p" * 300 + "]"
    name, digest = name_keys(long_id)
    assert stem_key(f"{name[:200]}...{digest}") == digest
    assert owner_of(Path("c/TestX.test_y[a-b-c].yaml"), {"tests/a.py::TestX::test_y[a/b:c]"}) == "run"
    assert owner_of(Path("c/test_other.yaml"), {"tests/a.py::test_y"}) == "other"
    assert owner_of(Path("c/shared_login.yaml"), {"tests/a.py::test_y"}) == "doubt"
    # A node id given without parameters (or a class) selects its parametrizations (or its members).
    assert owner_of(Path("c/test_y[p1].yaml"), {"tests/a.py::test_y"}) == "run"
    assert owner_of(Path("c/TestX.test_y[p].yaml"), {"tests/a.py::TestX"}) == "run"
    assert owner_of(Path("c/TestX.test_y.yaml"), {"tests/a.py::TestX::test_y"}) == "run"
    assert owner_of(Path("c/TestZ.test_y.yaml"), {"tests/a.py::TestX"}) == "other"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_or_a_link_out_as_a_test_module_is_never_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    tests = tmp_path / "tests"
    (tests / "cassettes" / "test_fifo").mkdir(parents=True)
    (tests / "cassettes" / "test_linked").mkdir(parents=True)
    os.mkfifo(tests / "test_fifo.py")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.py"
    outside.write_text("def test_a():\n    pass\n")
    (tests / "test_linked.py").symlink_to(outside)
    for folder in ("test_fifo", "test_linked"):
        (tests / "cassettes" / folder / "test_a.yaml").write_text(
            "interactions:\n- request: {method: GET, uri: 'https://x.test/', body: null, headers: {}}\n"
            "  response: {status: {code: 200, message: OK}, headers: {}, body: {string: ''}}\nversion: 1\n"
        )
    done = subprocess.run(
        [sys.executable, "-m", "llm_fixtures", "prune", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # neither is judged: a FIFO is no test module, a link out is not read
    assert "Traceback" not in done.stderr
