"""The static prune tier for cassettes: a cassette whose test is gone, by the names pytest-recording, pytest-vcr and
projects' own layouts give cassette files, and the cassette paths that test code names literally.

A cassette at `<D>/cassettes/<R>/<name>.yaml` belongs to:
- the module `<D>/<R>.py` when it exists (pytest-recording: one folder per test module);
- else a test module in the folder `<D>/<R>` (a project's cassette tree that mirrors its test tree, as crewAI's
  `vcr_cassette_dir` does; `<D>` itself for pytest-vcr's flat `cassettes/`);
- else, when `<R>` names a test module: a module beside `cassettes` if some test code names the folder in a string
  (a fixture's own `subdir="test_x_sideband"`), and otherwise (or when none defines the test) a module that is
  gone.
The test is looked up in the syntax tree of the module(s), never imported. A cassette named by a string literal in
a test module or conftest.py (`@vcr.use_cassette("x.yaml")`, `@pytest.mark.vcr("x.yaml")`,
`@pytest.mark.default_cassette("x")`) is never an orphan; nor is any cassette under a folder whose conftest.py
overrides `default_cassette_name` (its names need not follow the tests), which stays undecided.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from llm_fixtures.cassettes.naming import CASSETTE_FOLDERS, split_name, strip_suffix
from llm_fixtures.safepaths import is_inside, read_regular
from llm_fixtures.testfiles import MAX_TEST_FILE, index_file
from llm_fixtures.testindex import Presence, TestFileIndex, lookup

_TEST_MODULE_PREFIX = "test"
# Calls whose string arguments name cassettes, and fixtures that rename every cassette of their folder.
_NAMING_CALLS = frozenset({"use_cassette", "vcr", "default_cassette"})
_NAME_FIXTURES = frozenset({"default_cassette_name", "vcr_cassette_name"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the static tier says of one cassette: `orphan`, `kept` or `undecided`, why, and its test."""

    path: str
    status: str
    reason: str
    test_id: str | None
    bytes: int


def _is_test_module(name: str) -> bool:
    return name.endswith(".py") and (name.startswith(_TEST_MODULE_PREFIX) or name.endswith("_test.py"))


# A file that names a cassette literally, or renames cassettes, says `use_cassette`, `default_cassette` (and
# `default_cassette_name`) or `vcr_cassette_name`, or calls `vcr(...)` with an argument: only such files are parsed
# for their literals (parsing every test module of a large project costs seconds: pydantic-ai's, 13 s).
_MAY_NAME = re.compile(rb"use_cassette|default_cassette|vcr_cassette_name|vcr\s*\(\s*[^)\s]")


@dataclass
class _Tests:
    """Test modules and conftest files of the project, each read and parsed at most once."""

    root: Path
    python_files: list[Path] = field(default_factory=list)
    indexes: dict[Path, TestFileIndex] = field(default_factory=dict)
    sources: dict[Path, bytes | None] = field(default_factory=dict)
    trees: dict[Path, ast.Module | None] = field(default_factory=dict)
    overrides: dict[Path, bool] = field(default_factory=dict)
    constants: dict[Path, frozenset[str]] = field(default_factory=dict)
    _named: dict[str, tuple[int, Path]] | None = None

    def inside(self, path: Path) -> bool:
        """Whether `path` stays inside the project through every link (a test module linked out is not read)."""
        return is_inside(Path(os.path.realpath(path)), self.root)

    def index(self, module: Path) -> TestFileIndex:
        if module not in self.indexes:
            if self.inside(module):
                self.indexes[module] = index_file(module)
            else:
                self.indexes[module] = TestFileIndex("unsafe", f"{module.name} is a link out of the project")
        return self.indexes[module]

    def modules_in(self, folder: Path) -> list[Path]:
        try:
            names = sorted(entry.name for entry in folder.iterdir())
        except OSError:
            return []
        return [folder / name for name in names if _is_test_module(name) and (folder / name).is_file()]

    def source(self, path: Path) -> bytes | None:
        """A Python file's bytes, read once; never through a link out of the project, never blocking (a FIFO
        named like a test module), never more than a test file may hold."""
        if path not in self.sources:
            self.sources[path] = None
            if self.inside(path):
                with contextlib.suppress(OSError):
                    self.sources[path] = read_regular(path, MAX_TEST_FILE)
        return self.sources[path]

    def tree(self, path: Path) -> ast.Module | None:
        if path not in self.trees:
            source = self.source(path)
            self.trees[path] = None
            if source is not None:
                with contextlib.suppress(SyntaxError, ValueError, RecursionError, MemoryError):
                    self.trees[path] = ast.parse(source)
        return self.trees[path]

    def literals(self, path: Path) -> frozenset[str]:
        """The cassette names a Python file gives literally: the string arguments of `use_cassette(...)`,
        `mark.vcr(...)` and `mark.default_cassette(...)` calls; and whether the file overrides
        `default_cassette_name` (recorded in `overrides`)."""
        found: set[str] = set()
        override = False
        source = self.source(path)
        tree = self.tree(path) if source is not None and _MAY_NAME.search(source) else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Call) and _called(node.func) in _NAMING_CALLS:
                arguments = [*node.args, *(keyword.value for keyword in node.keywords if keyword.arg == "path")]
                found.update(
                    arg.value for arg in arguments if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                )
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in _NAME_FIXTURES:
                override = True
        self.overrides[path] = override
        return frozenset(found)

    def named(self) -> dict[str, tuple[int, Path]]:
        """Every literal name of every Python file (and, for a path, its last part too), with the first file that
        gives it (by its position among `python_files`): built once."""
        if self._named is None:
            self._named = {}
            for order, source in enumerate(self.python_files):
                for literal in self.literals(source):
                    self._named.setdefault(literal, (order, source))
                    if "/" in literal:
                        self._named.setdefault("/" + literal.rsplit("/", 1)[-1], (order, source))
        return self._named

    def holds_string(self, path: Path, text: str) -> bool:
        """Whether a Python file holds `text` as a whole string constant (looked up cheaply first)."""
        source = self.source(path)
        if source is None or text.encode() not in source:
            return False
        if path not in self.constants:
            tree = self.tree(path)
            nodes = ast.walk(tree) if tree is not None else ()
            self.constants[path] = frozenset(
                node.value
                for node in nodes
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200
            )
        return text in self.constants[path]


def _called(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _named_literally(cassette: Path, tests: _Tests) -> Path | None:
    """The test or conftest file that names this cassette literally (its file name, a path ending with it, or
    its name without the suffix, as `default_cassette` takes it), if any: the first of the project's files."""
    named = tests.named()
    found = [named[key] for key in (cassette.name, strip_suffix(cassette.name), "/" + cassette.name) if key in named]
    return min(found)[1] if found else None


def _folder_named(folder: str, tests: _Tests) -> bool:
    """Whether some test module or conftest.py holds the cassette folder's name as a string."""
    return any(tests.holds_string(source, folder) for source in tests.python_files)


def _python_files(root: Path) -> list[Path]:
    """Every test module and conftest.py of the project (virtual environments and VCS folders skipped)."""
    from llm_fixtures.discovery import SKIP_DIRS

    found: list[Path] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".") and d not in CASSETTE_FOLDERS)
        here = Path(current)
        found.extend(here / name for name in sorted(files) if name == "conftest.py" or _is_test_module(name))
    return found


def _node(test_class: str | None, function: str) -> str:
    return f"{test_class}::{function}" if test_class else function


def _judge_in(modules: list[Path], tests: _Tests, node: str) -> tuple[Presence, Path | None, str]:
    """Whether `node` is defined in any of `modules`: present (and where), absent, or unknown (why)."""
    unknown = ""
    for module in modules:
        presence, why = lookup(tests.index(module), node)
        if presence == "present":
            return "present", module, ""
        if presence == "unknown":
            unknown = f"{module.name}: {why}"
    return ("unknown", None, unknown) if unknown else ("absent", None, "")


def judge_cassette(cassette: Path, size: int, shown: str, tests: _Tests) -> Verdict:
    """The static verdict on one cassette (an absolute, resolved path inside the project)."""
    parts = cassette.parts
    at = max((index for index, part in enumerate(parts[:-1]) if part in CASSETTE_FOLDERS), default=-1)
    if at < 1:
        return Verdict(shown, "undecided", "not inside a cassettes folder", None, size)
    holder = Path(*parts[:at])  # <D>
    relative = parts[at + 1 : -1]  # <R>
    test_class, function, params = split_name(strip_suffix(cassette.name))
    node = _node(test_class, function)
    named = _named_literally(cassette, tests)
    if named is not None:
        return Verdict(shown, "kept", f"named in {named.name}", None, size)
    for conftest in (folder / "conftest.py" for folder in [holder, *holder.parents] if is_inside(folder, tests.root)):
        if conftest.is_file():
            if conftest not in tests.overrides:
                tests.literals(conftest)
            if tests.overrides.get(conftest):
                why = f"{conftest.relative_to(tests.root)} overrides default_cassette_name"
                return Verdict(shown, "undecided", why, None, size)
    if not function.isidentifier() or (test_class is not None and not test_class.isidentifier()):
        return Verdict(shown, "undecided", f"{cassette.name} does not name a test", None, size)
    module = holder.joinpath(*relative[:-1], relative[-1] + ".py") if relative else None
    if module is not None and module.exists() and not module.is_file():
        return Verdict(shown, "undecided", f"{module.name} is not a regular file", None, size)
    if module is not None and module.is_file():
        test_id = f"{module.relative_to(tests.root).as_posix()}::{node}{params}"
        presence, why = lookup(tests.index(module), node)
        if presence == "absent":
            return Verdict(shown, "orphan", why, test_id, size)
        status = "kept" if presence == "present" else "undecided"
        return Verdict(shown, status, why, test_id, size)
    folder = holder.joinpath(*relative)
    modules = tests.modules_in(folder)
    if modules:
        presence, found, why = _judge_in(modules, tests, node)
        place = folder.relative_to(tests.root).as_posix() or "."
        if presence == "present" and found is not None:
            return Verdict(shown, "kept", "", f"{found.relative_to(tests.root).as_posix()}::{node}{params}", size)
        if presence == "absent":
            return Verdict(shown, "orphan", f"no test {node} in {place}/", None, size)
        return Verdict(shown, "undecided", why, None, size)
    siblings = tests.modules_in(holder)
    if module is not None and relative[-1].startswith(_TEST_MODULE_PREFIX) and siblings:
        if _folder_named(relative[-1], tests):
            # A folder a fixture names on its own (`subdir="test_x_sideband"`): the test may live in any module
            # beside `cassettes`; only when none defines it is it gone.
            presence, found, why = _judge_in(siblings, tests, node)
            if presence == "present" and found is not None:
                test_id = f"{found.relative_to(tests.root).as_posix()}::{node}{params}"
                return Verdict(shown, "kept", "", test_id, size)
            if presence == "unknown":
                return Verdict(shown, "undecided", why, None, size)
        test_id = f"{module.relative_to(tests.root).as_posix()}::{node}{params}"
        return Verdict(shown, "orphan", "test file gone", test_id, size)
    return Verdict(shown, "undecided", "no test module or test folder matches this cassette", None, size)


def judge_cassettes(cassettes: list[tuple[str, str, int]], root: Path) -> list[Verdict]:
    """The static verdict on each cassette (shown path, path, size); paths outside the project are left alone."""
    real_root = Path(os.path.realpath(root))
    tests = _Tests(real_root, _python_files(real_root))
    verdicts: list[Verdict] = []
    for shown, name, size in cassettes:
        path = Path(os.path.realpath(name))
        if not is_inside(path, real_root):
            verdicts.append(Verdict(shown, "undecided", "outside the project", None, size))
            continue
        verdicts.append(judge_cassette(path, size, shown, tests))
    return verdicts
