"""`--collect`: parsing `pytest --collect-only -q`, the fingerprint cache, failures."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from llm_fixtures.collecting import CollectError, collect, fingerprint, parse_node_ids

QUIET_OUTPUT = """tests/a/test_x.py::test_one[p1]
tests/a/test_x.py::test_one[with space]
tests/a/test_x.py::TestK::test_m
tests/a/test_y.py::test_two

=============================== warnings summary ===============================
tests/a/test_x.py::test_one[p1]
  /x.py:1: DeprecationWarning: old

3 tests collected in 0.01s
"""


def test_parse_node_ids_stops_at_the_first_blank_line() -> None:
    assert parse_node_ids(QUIET_OUTPUT) == [
        "tests/a/test_x.py::test_one[p1]",
        "tests/a/test_x.py::test_one[with space]",
        "tests/a/test_x.py::TestK::test_m",
        "tests/a/test_y.py::test_two",
    ]


@pytest.mark.parametrize("output", ["", "\nno tests ran in 0.01s\n", "<Module test_x.py>\n  <Function test_a>\n"])
def test_parse_node_ids_of_empty_or_tree_output(output: str) -> None:
    assert parse_node_ids(output) == []


def write_project(root: Path, body: str = "def test_a():\n    pass\n") -> None:
    (root / "tests").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = ""\n')
    (root / "tests" / "test_a.py").write_text(body)


COMMAND = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"]


def test_collect_caches_until_a_source_file_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "p"
    write_project(root)
    first = collect([COMMAND], root)
    assert (first.ids, first.cached) == (frozenset({"tests/test_a.py::test_a"}), False)
    assert collect([COMMAND], root).cached
    assert not collect([COMMAND], root, use_cache=False).cached
    key = fingerprint([COMMAND], root)
    (root / "tests" / "test_a.py").write_text("def test_b():\n    pass\n")
    os.utime(root / "tests" / "test_a.py", ns=(1, 1))
    assert fingerprint([COMMAND], root) != key
    again = collect([COMMAND], root)
    assert (again.ids, again.cached) == (frozenset({"tests/test_a.py::test_b"}), False)


@pytest.mark.parametrize("ids", [["tests/test_a.py::test_gone", 7], "tests/test_a.py::test_gone", None])
def test_a_cached_collection_of_another_shape_is_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids: object
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "p"
    write_project(root)
    collect([COMMAND], root)
    (cache,) = (tmp_path / "cache").rglob("collect-*.json")
    document = json.loads(cache.read_text())
    document["entries"]["ids"] = ids
    cache.write_text(json.dumps(document))
    again = collect([COMMAND], root)
    assert (again.ids, again.cached) == (frozenset({"tests/test_a.py::test_a"}), False)


def test_recordings_do_not_change_the_fingerprint(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write_project(root)
    key = fingerprint([COMMAND], root)
    (root / "tests" / "recordings").mkdir()
    (root / "tests" / "recordings" / "x.json").write_text("{}")
    assert fingerprint([COMMAND], root) == key


def test_union_of_several_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "p"
    write_project(root, "import pytest\n\n@pytest.mark.slow\ndef test_a():\n    pass\n\ndef test_b():\n    pass\n")
    fast = [*COMMAND, "-m", "not slow"]
    slow = [*COMMAND, "-m", "slow"]
    assert collect([fast], root).ids == {"tests/test_a.py::test_b"}
    assert collect([fast, slow], root).ids == {"tests/test_a.py::test_a", "tests/test_a.py::test_b"}


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["definitely-not-a-command-xyz"], "command not found"),
        ([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], "failed (exit 3)"),
        ([sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", "tests"], "run it with -q"),
        ([sys.executable, "-m", "pytest", "--collect-only", "-qq", "-p", "no:cacheprovider", "tests"], "with -q"),
    ],
)
def test_failures_raise(command: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "p"
    write_project(root)
    with pytest.raises(CollectError, match=re.escape(message)):
        collect([command], root)
    # A failure is never cached.
    assert not list((tmp_path / "cache").rglob("collect-*.json"))
