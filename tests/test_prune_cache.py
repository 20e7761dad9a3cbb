"""Prune's test-file index cache: a settled, unchanged test file is parsed once across runs; a changed one again;
a cache entry of any other shape is a miss, never a crash or a wrong answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from llm_fixtures import caching, testfiles
from llm_fixtures.testfiles import CACHE_FORMAT, TestFiles
from llm_fixtures.testindex import (
    MAX_PLAIN_DEPTH,
    TestFileIndex,
    index_from_plain,
    index_source,
    index_to_plain,
    lookup,
)

REPO = Path(__file__).resolve().parents[1]
SOURCE = """import os
from helpers import *


class Base:
    def test_inherited(self):
        pass


class TestGroup(Base):
    class TestInner:
        def test_deep(self):
            pass

    def test_method(self):
        pass


if os.environ.get("X"):
    def test_maybe():
        pass


def test_plain():
    pass
"""
TEN_SECONDS = 10 * 10**9


class _Aged:
    """A file's stat as it would read ten seconds later: every file has settled (cached) as soon as written."""

    def __init__(self, real: os.stat_result) -> None:
        self.st_size = real.st_size
        self.st_mtime_ns = real.st_mtime_ns - TEN_SECONDS
        self.st_ctime_ns = real.st_ctime_ns - TEN_SECONDS


@pytest.fixture
def aged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The user cache in tmp_path, and every stat aged."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(caching, "_stat", lambda path: _Aged(Path(path).stat()))
    return tmp_path / "cache" / "llm-fixtures"


def _project(tmp_path: Path, source: str = SOURCE) -> tuple[Path, str]:
    project = tmp_path / "project"
    test_file = project / "tests" / "s" / "test_f.py"
    test_file.parent.mkdir(parents=True)
    test_file.write_text(source)
    return project, str(project / "tests" / "s" / "recordings" / "h.json")


def _run(project: Path, recording: str, *, complete: bool = True) -> tuple[TestFileIndex, int]:
    files = TestFiles(project, use_cache=True)
    index = files.indexes[files.key_for(recording, "tests/s/test_f.py")]
    files.save(complete=complete)
    return index, files.files_read


def _cache_entries(cache: Path) -> dict[str, Any]:
    (document,) = [orjson.loads(path.read_bytes()) for path in cache.glob("tests-*.json")]
    assert document["key"] == CACHE_FORMAT
    entries: dict[str, Any] = document["entries"]
    return entries


def test_an_unchanged_test_file_is_parsed_once_across_runs(tmp_path: Path, aged: Path) -> None:
    project, recording = _project(tmp_path)
    first, read = _run(project, recording)
    assert read == 1 and first.status == "parsed"
    second, read = _run(project, recording)
    assert read == 0
    assert second == first
    for name in ("test_plain", "TestGroup::test_method", "TestGroup::TestInner::test_deep", "TestGroup::test_gone"):
        assert lookup(second, name) == lookup(first, name)
    (cache_file,) = aged.glob("tests-*.json")
    assert cache_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.usefixtures("aged")
def test_a_changed_test_file_is_parsed_again(tmp_path: Path) -> None:
    project, recording = _project(tmp_path)
    _run(project, recording)
    (project / "tests" / "s" / "test_f.py").write_text(SOURCE.replace("def test_method", "def test_renamed"))
    index, read = _run(project, recording)
    assert read == 1
    assert lookup(index, "TestGroup::test_method") == ("absent", "method TestGroup::test_method gone")
    assert _run(project, recording)[1] == 0


def test_a_test_file_changed_just_now_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project, recording = _project(tmp_path)
    assert _run(project, recording)[1] == 1
    assert _run(project, recording)[1] == 1  # its stamp could still hide a rewrite of the same size


@pytest.mark.usefixtures("aged")
def test_an_unparsable_file_is_cached_as_unparsable(tmp_path: Path) -> None:
    project, recording = _project(tmp_path, "def test_a(:\n")
    first, _ = _run(project, recording)
    second, read = _run(project, recording)
    assert read == 0 and second == first and second.status == "unparsable"


def test_a_missing_test_file_is_never_cached(tmp_path: Path, aged: Path) -> None:
    project, recording = _project(tmp_path)
    (project / "tests" / "s" / "test_f.py").unlink()
    index, _ = _run(project, recording)
    assert index.status == "missing"
    assert not list(aged.glob("tests-*.json"))


def _nested(depth: int) -> list[Any]:
    scope: list[Any] = [["test_x"], [], {}, [], False]
    for _ in range(depth):
        scope = [[], [], {"C": scope}, [], False]
    return scope


S = "<the file's stamp>"  # stands for the stamp in the entries below
EMPTY: list[Any] = [[], [], {}, [], False]
BAD_ENTRIES: list[Any] = [
    None,
    "parsed",
    [],
    [S],
    ["parsed", "", EMPTY],  # no stamp
    [[1, 2, 3], ["parsed", "", EMPTY]],  # the stamp of another file
    [S, ["parsed", "", EMPTY], "extra"],
    [S, ["parsed", "", [["test_plain"], [], {}, [], "no"]]],
    [S, ["parsed", "", [["test_plain"], [], [], [], False]]],
    [S, ["parsed", "", [[1], [], {}, [], False]]],
    [S, ["parsed", "", [["test_plain"], [], {"C": "class"}, [], False]]],
    [S, ["parsed", 5, EMPTY]],
    [S, ["missing", "", EMPTY]],
    [S, ["parsed", "", EMPTY, "extra"]],
    [S, ["parsed", "", _nested(MAX_PLAIN_DEPTH + 5)]],
]


@pytest.mark.parametrize("entry", BAD_ENTRIES)
def test_a_cache_entry_of_another_shape_is_a_miss(tmp_path: Path, aged: Path, entry: Any) -> None:
    project, recording = _project(tmp_path)
    expected, _ = _run(project, recording)
    entries = _cache_entries(aged)
    (real,) = entries
    planted = [entries[real][0] if part == S else part for part in entry] if isinstance(entry, list) else entry
    caching.write_entries(next(aged.glob("tests-*.json")), CACHE_FORMAT, {real: planted})
    index, read = _run(project, recording)
    assert read == 1
    assert index == expected
    assert _cache_entries(aged)[real][1] == index_to_plain(expected)


def test_a_cache_that_is_not_json_or_of_another_version_is_ignored(tmp_path: Path, aged: Path) -> None:
    project, recording = _project(tmp_path)
    expected, _ = _run(project, recording)
    cache_file = next(aged.glob("tests-*.json"))
    for document in (b"\xff garbage", orjson.dumps({"key": "tests-0:old", "entries": _cache_entries(aged)})):
        cache_file.write_bytes(document)
        assert _run(project, recording) == (expected, 1)


def test_a_partial_run_keeps_other_entries_and_a_complete_one_drops_them(tmp_path: Path, aged: Path) -> None:
    project, recording = _project(tmp_path)
    _run(project, recording)
    other = project / "tests" / "s" / "test_other.py"
    other.write_text("def test_o():\n    pass\n")
    files = TestFiles(project, use_cache=True)
    files.key_for(recording, "tests/s/test_other.py")
    files.save(complete=False)
    assert len(_cache_entries(aged)) == 2
    _run(project, recording, complete=True)
    assert list(_cache_entries(aged)) == [os.path.realpath(project / "tests" / "s" / "test_f.py")]


@pytest.mark.usefixtures("aged")
def test_the_cache_is_read_only_after_the_checks_that_keep_reads_inside(tmp_path: Path) -> None:
    project, recording = _project(tmp_path)
    outside = tmp_path / "outside" / "test_secret.py"
    outside.parent.mkdir()
    outside.write_text(SOURCE)
    (project / "tests" / "s" / "test_link.py").symlink_to(outside)
    # An entry for the file outside, as if an earlier run had read it: the link is still refused.
    plain = index_to_plain(index_source(SOURCE))
    stamp = caching.stamp_of(str(outside))
    caching.cache_dir().mkdir(parents=True, exist_ok=True)
    caching.write_entries(caching.cache_file("tests", project), CACHE_FORMAT, {str(outside): [stamp, plain]})
    files = TestFiles(project, use_cache=True)
    assert files.indexes[files.key_for(recording, "tests/s/test_link.py")].status == "unsafe"


def test_plain_indexes_round_trip_over_real_test_files() -> None:
    for path in sorted((REPO / "tests").glob("*.py")):
        index = testfiles.index_file(path)
        plain = index_to_plain(index)
        assert plain is not None, path
        assert index_from_plain(orjson.loads(orjson.dumps(plain))) == index, path


def test_warm_prune_imports_neither_pydantic_nor_rich(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from llm_fixtures.app import app\n"
        "try:\n"
        f"    app(['prune', '--json', {str(REPO / 'recordings')!r}])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print(sorted(m for m in ('pydantic', 'rich') if m in sys.modules), file=sys.stderr)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True
        )
    assert done.stderr.splitlines()[-1] == "[]", done.stderr
