"""The test-file index of `fixtures prune`: what a test file defines, read from its syntax tree."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from llm_fixtures.testfiles import TestFiles
from llm_fixtures.testindex import TestFileIndex, index_source, infer_root, lookup, safe_test_path

SOURCE = """
import pytest
from helpers import test_imported
from .shared import TestShared as TestAliased

@pytest.mark.parametrize("x", [1, 2])
def test_plain(x):
    pass

async def test_async():
    pass

test_assigned = make_test()

class TestBase:
    def test_inherited(self):
        pass

class TestChild(TestBase):
    def test_own(self):
        pass

    class TestInner:
        def test_deep(self):
            pass

class TestExternal(SomeImportedBase):
    def test_here(self):
        pass

class TestDotted(module.Base):
    pass

if sys.platform == "linux":
    def test_linux_only():
        pass
else:
    def test_other():
        pass

try:
    import numpy
except ImportError:
    def test_without_numpy():
        pass
"""


@pytest.mark.parametrize(
    ("function", "presence"),
    [
        ("test_plain", "present"),
        ("test_async", "present"),
        ("test_imported", "present"),
        ("test_assigned", "present"),
        ("test_linux_only", "present"),
        ("test_other", "present"),
        ("test_without_numpy", "present"),
        ("test_removed", "absent"),
        ("TestBase::test_inherited", "present"),
        ("TestChild::test_own", "present"),
        ("TestChild::test_inherited", "present"),
        ("TestChild::test_removed", "absent"),
        ("TestChild::TestInner::test_deep", "present"),
        ("TestChild::TestInner::test_gone", "absent"),
        ("TestChild::TestMissing::test_x", "absent"),
        ("TestGone::test_x", "absent"),
        ("TestExternal::test_here", "present"),
        ("TestExternal::test_maybe_inherited", "unknown"),
        ("TestDotted::test_x", "unknown"),
        ("TestAliased::test_x", "unknown"),
        (None, "present"),
        ("module.test_doc", "unknown"),
        ("test with space", "unknown"),
    ],
)
def test_lookup_in_parsed_file(function: str | None, presence: str) -> None:
    index = index_source(SOURCE)
    assert index.status == "parsed"
    assert lookup(index, function)[0] == presence


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        ("test_removed", "function test_removed gone"),
        ("TestGone::test_x", "class TestGone gone"),
        ("TestChild::test_removed", "method TestChild::test_removed gone"),
    ],
)
def test_absent_says_what_is_gone(function: str, reason: str) -> None:
    assert lookup(index_source(SOURCE), function) == ("absent", reason)


def test_star_import_makes_missing_names_unknown() -> None:
    index = index_source("from helpers import *\n\ndef test_a():\n    pass\n")
    assert lookup(index, "test_a")[0] == "present"
    assert lookup(index, "test_b")[0] == "unknown"


def test_unparsable_file_is_never_absent() -> None:
    index = index_source("def test_a(:\n    pass\n")
    assert index.status == "unparsable"
    presence, reason = lookup(index, "test_gone")
    assert presence == "unknown"
    assert "does not parse" in reason


def test_index_file_missing_and_unreadable(tmp_path: Path) -> None:
    from llm_fixtures.testfiles import index_file

    assert index_file(tmp_path / "test_nope.py").status == "missing"
    assert lookup(index_file(tmp_path / "test_nope.py"), "test_a") == ("absent", "test file gone")
    (tmp_path / "test_dir.py").mkdir()
    assert index_file(tmp_path / "test_dir.py").status == "unreadable"
    (tmp_path / "test_link.py").symlink_to(tmp_path / "nowhere.py")
    assert index_file(tmp_path / "test_link.py").status == "unreadable"


@pytest.mark.parametrize(
    ("test_file", "safe"),
    [
        ("tests/integration/x/test_a.py", True),
        ("test_a.py", True),
        ("../test_a.py", False),
        ("tests/../../test_a.py", False),
        ("/etc/test_a.py", False),
        ("C:/tests/test_a.py", False),
        ("tests\\test_a.py", False),
        ("tests/test\x00a.py", False),
        ("", False),
    ],
)
def test_safe_test_path(test_file: str, safe: bool) -> None:
    assert (safe_test_path(test_file) is not None) == safe


@pytest.mark.parametrize(
    ("recording", "test_file", "root"),
    [
        ("/r/tests/integration/s/recordings/h.json", "tests/integration/s/test_f.py", "/r"),
        ("/r/recordings/tests/integration/s/recordings/h.json", "tests/integration/s/test_f.py", "/r/recordings"),
        ("/r/recordings/h.json", "test_f.py", "/r"),
        ("/r/tests/integration/common/recordings/h.json", "tests/integration/s/test_f.py", None),
        ("/r/s/recordings/h.json", "tests/integration/s/test_f.py", None),
        ("/r/tests/integration/s/h.json", "tests/integration/s/test_f.py", None),
        ("/r/synthetic/h.json", "test_f.py", None),
    ],
)
def test_infer_root(recording: str, test_file: str, root: str | None) -> None:
    found = infer_root(PurePosixPath(recording).parent, PurePosixPath(test_file).parent)
    assert (str(found) if found is not None else None) == root


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_test_files_parse_each_file_once_and_stay_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    _write(project / "tests/s/test_f.py", "def test_a():\n    pass\n")
    outside = _write(tmp_path / "outside/test_secret.py", "def test_a():\n    pass\n")
    (project / "tests/s/test_link.py").symlink_to(outside)
    recording = str(project / "tests/s/recordings/h.json")
    reads: list[str] = []
    import llm_fixtures.testfiles as testfiles

    original = testfiles.index_file

    def counting(path: Path) -> TestFileIndex:
        reads.append(str(path))
        return original(path)

    monkeypatch.setattr(testfiles, "index_file", counting)
    files = TestFiles(project)
    first = files.key_for(recording, "tests/s/test_f.py")
    assert files.key_for(recording, "tests/s/test_f.py") == first
    assert files.indexes[first].status == "parsed"
    assert len(reads) == 1
    link = files.key_for(recording, "tests/s/test_link.py")
    assert files.indexes[link].status == "unsafe"
    dots = files.key_for(recording, "../../outside/test_secret.py")
    assert files.indexes[dots].status == "unsafe"
    absolute = files.key_for(recording, str(outside))
    assert files.indexes[absolute].status == "unsafe"
    assert all(not read.startswith(str(tmp_path / "outside")) for read in reads)
    assert len(reads) == 1


def test_folder_link_out_of_project_is_unsafe(tmp_path: Path) -> None:
    project = tmp_path / "project"
    _write(tmp_path / "elsewhere/test_f.py", "def test_a():\n    pass\n")
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "linked").symlink_to(tmp_path / "elsewhere")
    files = TestFiles(project)
    key = files.key_for(str(project / "other/recordings/h.json"), "tests/linked/test_f.py")
    assert files.indexes[key].status == "unsafe"


def test_missing_folder_under_fallback_root_is_unknown(tmp_path: Path) -> None:
    files = TestFiles(tmp_path)
    key = files.key_for(str(tmp_path / "common/recordings/h.json"), "tests/integration/s/test_f.py")
    assert files.indexes[key].status == "unreadable"
    assert lookup(files.indexes[key], "test_a")[0] == "unknown"


@pytest.mark.parametrize("test_file", ["synthetic", "pydantic-ai:tests/cassettes/x.yaml", "tests/client.test.ts"])
def test_test_ids_naming_no_python_file_are_never_read(test_file: str, tmp_path: Path) -> None:
    files = TestFiles(tmp_path)
    key = files.key_for(str(tmp_path / "recordings" / "h.json"), test_file)
    assert files.indexes[key].status == "foreign"
    assert lookup(files.indexes[key], "test_a")[0] == "unknown"
