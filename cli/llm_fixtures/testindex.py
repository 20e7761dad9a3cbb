"""What a test file defines, read from its syntax tree (never imported): test functions, classes, methods."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from llm_fixtures.safepaths import NotRegularFile, read_regular

_DRIVE = re.compile(r"[A-Za-z]:")  # a Windows drive: absolute on Windows
# The largest test file read (a real one is a few hundred KB); a bigger one is left alone, unread.
MAX_TEST_FILE = 64 * 1024 * 1024
IndexStatus = Literal["parsed", "missing", "unparsable", "unreadable", "unsafe", "foreign"]
Presence = Literal["present", "absent", "unknown"]


@dataclass(frozen=True, slots=True)
class Scope:
    """The names a module or a class body binds. `defs` are functions and classes defined with `def`/`class`;
    `others` are names bound any other way (imports, assignments), which pytest may collect too; `open` is
    set by a star import, after which any name may exist; `bases` are a class's base expressions."""

    defs: frozenset[str] = frozenset()
    others: frozenset[str] = frozenset()
    classes: dict[str, Scope] = field(default_factory=dict)
    bases: tuple[str, ...] = ()
    open: bool = False

    def binds(self, name: str) -> bool:
        return name in self.defs or name in self.others or name in self.classes


@dataclass(frozen=True, slots=True)
class TestFileIndex:
    """One test file: whether it could be read and parsed, and, if so, its module scope."""

    __test__ = False  # not a pytest test class

    status: IndexStatus
    detail: str = ""
    module: Scope = field(default_factory=Scope)


def _target_names(target: ast.expr) -> Iterable[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _base_name(expr: ast.expr) -> str:
    """`Base` for `class X(Base)`; a dotted or computed base is kept as its source text (never resolvable)."""
    return expr.id if isinstance(expr, ast.Name) else ast.unparse(expr)


def _scope(body: list[ast.stmt], bases: tuple[str, ...] = ()) -> Scope:
    defs: set[str] = set()
    others: set[str] = set()
    classes: dict[str, Scope] = {}
    is_open = False
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defs.add(node.name)
        elif isinstance(node, ast.ClassDef):
            class_bases = tuple(_base_name(base) for base in node.bases)
            inner = _scope(node.body, class_bases)
            # A class defined twice (e.g. under if/else) keeps every method of either definition.
            if node.name in classes:
                previous = classes[node.name]
                inner = Scope(
                    defs=previous.defs | inner.defs,
                    others=previous.others | inner.others,
                    classes={**previous.classes, **inner.classes},
                    bases=previous.bases + inner.bases,
                    open=previous.open or inner.open,
                )
            classes[node.name] = inner
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    is_open = True
                else:
                    others.add(alias.asname or alias.name.split(".", 1)[0])
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                others.update(_target_names(target))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            others.update(_target_names(node.target))
        elif isinstance(node, ast.If | ast.For | ast.AsyncFor | ast.While | ast.With | ast.AsyncWith):
            # Definitions under a condition or a loop may exist: count them (never call a test gone too soon).
            pending.extend(node.body)
            pending.extend(node.orelse if not isinstance(node, ast.With | ast.AsyncWith) else [])
            if isinstance(node, ast.For | ast.AsyncFor):
                others.update(_target_names(node.target))
        elif isinstance(node, ast.Try | ast.TryStar):
            pending.extend(node.body)
            pending.extend(node.orelse)
            pending.extend(node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                pending.extend(case.body)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.NamedExpr):
            others.update(_target_names(node.value.target))
    return Scope(frozenset(defs), frozenset(others), classes, bases, is_open)


def index_source(source: bytes | str, filename: str = "<test file>") -> TestFileIndex:
    """The index of a test file's source text; a file that does not parse is `unparsable`, never empty."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        return TestFileIndex("unparsable", f"test file does not parse{where}: {getattr(exc, 'msg', None) or exc}")
    except (RecursionError, MemoryError):
        return TestFileIndex("unparsable", "test file does not parse: too deeply nested")
    return TestFileIndex("parsed", module=_scope(tree.body))


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


def _find_in_class(scope: Scope, module: Scope, name: str, seen: frozenset[int]) -> Presence:
    """Is `name` bound in a class or in one of its bases that the same file defines? A base the file does not
    define (imported, dotted) may supply any name: unknown."""
    if scope.binds(name):
        return "present"
    if scope.open:
        return "unknown"
    answer: Presence = "absent"
    for base in scope.bases:
        if base == "object":
            continue
        base_scope = module.classes.get(base)
        if base_scope is None or id(base_scope) in seen:
            return "unknown"
        found = _find_in_class(base_scope, module, name, seen | {id(base_scope)})
        if found == "present":
            return "present"
        if found == "unknown":
            answer = "unknown"
    return answer


def lookup(index: TestFileIndex, function: str | None) -> tuple[Presence, str]:
    """Whether `function` (`test_f`, `Class::method`, `Outer::Inner::method`; no parameters) is still defined,
    and why not. Only a parsed file can say `absent`."""
    if index.status == "missing":
        return "absent", "test file gone"
    if index.status != "parsed":
        return "unknown", index.detail or f"test file {index.status}"
    if not function:
        return "present", ""
    parts = function.split("::")
    if not all(part.isidentifier() for part in parts):
        # A doctest (`mod.py::mod.func`) or a plugin's item: not a name the syntax tree can confirm or deny.
        return "unknown", f"{function} is not a test function name"
    module = index.module
    scope = module
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if depth == 0:
            if part in scope.classes:
                if last:
                    return "present", ""
                scope = scope.classes[part]
                continue
            if scope.binds(part):
                # A function, or a class bound by import or assignment: its members are not knowable.
                return ("present", "") if last else ("unknown", f"{part} is not a class defined in the file")
            if scope.open:
                return "unknown", "the test file uses a star import"
            return "absent", f"{'function' if last else 'class'} {part} gone"
        if part in scope.classes:
            if last:
                return "present", ""
            scope = scope.classes[part]
            continue
        found = _find_in_class(scope, module, part, frozenset({id(scope)}))
        if found == "present":
            return ("present", "") if last else ("unknown", f"{part} is not a class defined in the file")
        if found == "unknown":
            return "unknown", f"{'::'.join(parts[:depth])} has bases defined elsewhere"
        return "absent", f"{'method' if last else 'class'} {'::'.join(parts[: depth + 1])} gone"
    return "present", ""


def safe_test_path(test_file: str) -> PurePosixPath | None:
    """The test file part of a test id as a relative path, or None when it could name something outside the
    project (absolute, `..`, a drive, a backslash, a NUL)."""
    if not test_file or "\x00" in test_file or "\\" in test_file:
        return None
    path = PurePosixPath(test_file)
    if path.is_absolute() or ".." in path.parts or _DRIVE.match(test_file):
        return None
    return path


def infer_root(recording: PurePosixPath, test_file: PurePosixPath) -> PurePosixPath | None:
    """The project root a recording was made in: `<X>` for `<X>/tests/integration/s/recordings/h.json` with
    the test file `tests/integration/s/test_f.py` (upstream records into `<test file dir>/recordings`).
    None when the recording is not in a `recordings` folder whose parent ends with the test file's folder."""
    if recording.parent.name != "recordings":
        return None
    folder = recording.parent.parent
    wanted = test_file.parent.parts
    if not wanted:
        return folder
    if len(folder.parts) <= len(wanted) or folder.parts[-len(wanted) :] != wanted:
        return None
    return PurePosixPath(*folder.parts[: -len(wanted)])


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class TestFiles:
    """The test files named by recordings' test ids, each located and parsed once, never outside the project.

    A recording's project root is inferred from where it lies (see `infer_root`), else `fallback_root`. A test
    id with `..` or an absolute path, or a test file that is a symbolic link leading out of that root, is
    indexed as `unsafe` and never read."""

    __test__ = False  # not a pytest test class

    def __init__(self, fallback_root: Path) -> None:
        self.fallback_root = Path(fallback_root).absolute()
        self.indexes: dict[str, TestFileIndex] = {}
        self._real: dict[str, str] = {}
        self._keys: dict[tuple[str, str], str] = {}

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
            key = self._keys[pair] = self._key(recording, test_file)
        return key

    def _key(self, recording: str, test_file: str) -> str:
        relative = safe_test_path(test_file)
        if relative is None:
            key = f"unsafe:{test_file}"
            self.indexes[key] = TestFileIndex("unsafe", "the test id names a path outside the project")
            return key
        if relative.suffix != ".py":
            # Not a Python test file (a cassette, a YAML item, a made-up id): its syntax tree says nothing.
            key = f"foreign:{test_file}"
            self.indexes[key] = TestFileIndex("foreign", "not a Python test file")
            return key
        root = infer_root(PurePosixPath(Path(recording).as_posix()), relative)
        base = Path(str(root)) if root is not None else self.fallback_root
        candidate = base / relative
        key = str(candidate)
        if key not in self.indexes:
            self.indexes[key] = self._index(base, candidate, inferred=root is not None)
        return key

    def _index(self, base: Path, candidate: Path, *, inferred: bool) -> TestFileIndex:
        boundary = self._realpath(str(base))
        folder = self._realpath(str(candidate.parent))
        if not _inside(folder, boundary):
            return TestFileIndex("unsafe", f"the test folder leads out of the project ({candidate.parent})")
        if not inferred and not Path(folder).is_dir():
            # Without the folder we cannot tell a wrong project root from a gone test.
            return TestFileIndex("unreadable", f"test folder {candidate.parent} not found (wrong project root?)")
        real = os.path.realpath(candidate)
        if not _inside(real, boundary):
            return TestFileIndex("unsafe", f"the test file links out of the project ({candidate})")
        return index_file(Path(real))
