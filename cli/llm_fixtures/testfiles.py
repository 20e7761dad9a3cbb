"""The test files recordings name: located, kept inside the project, read and indexed once each (`testindex`), the
indexes cached by path and stamp."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path, PurePosixPath
from typing import Any

from llm_fixtures import __version__
from llm_fixtures.caching import cache_file, read_entries, settled, stamp_of, write_entries
from llm_fixtures.safepaths import NotRegularFile, read_regular
from llm_fixtures.testindex import (
    TestFileIndex,
    index_from_plain,
    index_source,
    index_to_plain,
    infer_root,
    safe_test_path,
)

# The largest test file read (a real one is a few hundred KB); a bigger one is left alone, unread.
MAX_TEST_FILE = 64 * 1024 * 1024
CACHE_FORMAT = f"tests-1:{__version__}"


def index_file(path: Path) -> TestFileIndex:
    """Read and index one test file. The caller has checked that `path` stays inside the project."""
    try:
        source = read_regular(path, MAX_TEST_FILE)
    except FileNotFoundError:
        if path.is_symlink():
            return TestFileIndex("unreadable", "test file is a broken symbolic link")
        return TestFileIndex("missing", "test file gone")
    except IsADirectoryError:
        return TestFileIndex("unreadable", "test file is a directory")
    except NotRegularFile as exc:
        return TestFileIndex("unreadable", f"test file is {exc}")
    except OSError as exc:
        return TestFileIndex("unreadable", f"test file unreadable: {exc.strerror or exc}")
    return index_source(source, str(path))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class TestFiles:
    """The test files named by recordings' test ids, each located and parsed once, never outside the project.

    A recording's project root is inferred from where it lies (see `testindex.infer_root`), else `fallback_root`.
    A test id with `..` or an absolute path, or a test file that is a symbolic link leading out of that root, is
    indexed as `unsafe` and never read. With `use_cache`, the index of a file whose stamp (size, modification and
    change times) is unchanged comes from the user cache; `save` stores what was read."""

    __test__ = False  # not a pytest test class

    def __init__(self, fallback_root: Path, *, use_cache: bool = False) -> None:
        self.fallback_root = Path(fallback_root).absolute()
        self.indexes: dict[str, TestFileIndex] = {}
        self._real: dict[str, str] = {}
        self._keys: dict[tuple[str, str], str] = {}
        self._relatives: dict[str, PurePosixPath | None] = {}
        self._roots: dict[tuple[str, PurePosixPath], str | None] = {}
        self._use_cache = use_cache
        self._cache_file = cache_file("tests", self.fallback_root)
        self._cached: dict[str, Any] | None = None
        self._fresh: dict[str, Any] = {}
        self._read = 0  # files read (not from the cache)
        self._added = 0  # entries for the cache made from files read

    def _realpath(self, path: str) -> str:
        if path not in self._real:
            self._real[path] = os.path.realpath(path)
        return self._real[path]

    def key_for(self, recording: str, test_file: str) -> str:
        """The index key of `test_file` for the recording at the absolute path `recording` (indexed once)."""
        # Recordings of one folder share their tests: work out each (folder, test file) pair once.
        pair = (recording.rpartition(os.sep)[0], test_file)
        key = self._keys.get(pair)
        if key is None:
            key = self._keys[pair] = self._key(pair[0], test_file)
        return key

    def _relative(self, test_file: str) -> PurePosixPath | None:
        if test_file not in self._relatives:
            self._relatives[test_file] = safe_test_path(test_file)
        return self._relatives[test_file]

    def _root(self, folder: str, tests: PurePosixPath) -> str | None:
        """The project root inferred for recordings in `folder` whose test file lies in the folder `tests`."""
        pair = (folder, tests)
        if pair not in self._roots:
            root = infer_root(PurePosixPath(Path(folder).as_posix()), tests)
            self._roots[pair] = str(Path(str(root))) if root is not None else None
        return self._roots[pair]

    def _key(self, folder: str, test_file: str) -> str:
        relative = self._relative(test_file)
        if relative is None:
            key = f"unsafe:{test_file}"
            self.indexes[key] = TestFileIndex("unsafe", "the test id names a path outside the project")
            return key
        if relative.suffix != ".py":
            # Not a Python test file (a cassette, a YAML item, a made-up id): its syntax tree says nothing.
            key = f"foreign:{test_file}"
            self.indexes[key] = TestFileIndex("foreign", "not a Python test file")
            return key
        root = self._root(folder, relative.parent)
        base = root if root is not None else str(self.fallback_root)
        # Strings, not Path objects, from here on: this runs for every test file of every recordings folder.
        key = f"{base.rstrip(os.sep)}{os.sep}{str(relative).replace('/', os.sep)}"
        if key not in self.indexes:
            self.indexes[key] = self._index(base, key, inferred=root is not None)
        return key

    def _index(self, base: str, candidate: str, *, inferred: bool) -> TestFileIndex:
        boundary = self._realpath(base)
        parent, _, name = candidate.rpartition(os.sep)
        folder = self._realpath(parent)
        if not _inside(folder, boundary):
            return TestFileIndex("unsafe", f"the test folder leads out of the project ({parent})")
        if not inferred and not Path(folder).is_dir():
            # Without the folder we cannot tell a wrong project root from a gone test.
            return TestFileIndex("unreadable", f"test folder {parent} not found (wrong project root?)")
        # realpath(parent/name) is realpath(parent)/name unless `name` itself is a link: one lstat, not one per
        # component of the path.
        real = f"{folder.rstrip(os.sep)}{os.sep}{name}"
        try:
            link = stat.S_ISLNK(os.lstat(real).st_mode)
        except FileNotFoundError:
            return TestFileIndex("missing", "test file gone")
        except OSError:
            link = False
        if link:
            real = os.path.realpath(real)
        if not _inside(real, boundary):
            return TestFileIndex("unsafe", f"the test file links out of the project ({candidate})")
        return self._indexed(real)

    def _indexed(self, real: str) -> TestFileIndex:
        """The index of the test file at the resolved path `real` (inside the project): from the cache when its
        entry has the file's stamp and the shape of an index, else read, and kept for `save` once settled."""
        if not self._use_cache:
            self._read += 1
            return index_file(Path(real))
        if self._cached is None:
            self._cached = read_entries(self._cache_file, CACHE_FORMAT)
        now = time.time_ns()
        stamp = stamp_of(real)
        entry = self._cached.get(real)
        if stamp is not None and type(entry) is list and len(entry) == 2 and entry[0] == stamp:
            index = index_from_plain(entry[1])
            if index is not None:
                self._fresh[real] = entry
                return index
        self._read += 1
        index = index_file(Path(real))
        plain = index_to_plain(index)
        if stamp is not None and plain is not None and settled(stamp, now):
            self._fresh[real] = [stamp, plain]
            self._added += 1
        return index

    @property
    def files_read(self) -> int:
        """How many test files were read and parsed (not taken from the cache)."""
        return self._read

    def save(self, *, complete: bool) -> None:
        """Store the indexes read for the next run. `complete`: every test file of the project was looked at, so
        the entries of files not looked at (gone, renamed) are dropped; otherwise they are kept."""
        if not self._use_cache or self._cached is None:
            return
        if not self._added and (not complete or len(self._fresh) == len(self._cached)):
            return
        entries = self._fresh if complete else {**self._cached, **self._fresh}
        write_entries(self._cache_file, CACHE_FORMAT, entries)
