"""What a test file defines, from its syntax tree (never imported): test functions, classes, methods. Pure: the
reading is `testfiles`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

_DRIVE = re.compile(r"[A-Za-z]:")  # a Windows drive: absolute on Windows
IndexStatus = Literal["parsed", "missing", "unparsable", "unreadable", "unsafe", "foreign"]
Presence = Literal["present", "absent", "unknown"]
# The deepest nesting of classes an index keeps as plain values (a cache entry deeper than that is not one).
MAX_PLAIN_DEPTH = 64


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


def infer_root(recordings: PurePosixPath, tests: PurePosixPath) -> PurePosixPath | None:
    """The project root a recording was made in, from the folder it lies in and the folder of its test file:
    `<X>` for a recording in `<X>/tests/integration/s/recordings` whose test file is in `tests/integration/s`
    (upstream records into `<test file dir>/recordings`). None when the recording is not in a `recordings`
    folder whose parent ends with the test file's folder."""
    if recordings.name != "recordings":
        return None
    folder = recordings.parent
    wanted = tests.parts
    if not wanted:
        return folder
    if len(folder.parts) <= len(wanted) or folder.parts[-len(wanted) :] != wanted:
        return None
    return PurePosixPath(*folder.parts[: -len(wanted)])


# An index as plain JSON values, for the cache: [status, detail, scope], a scope being [defs, others, classes, bases,
# open] with `classes` an object of scopes. Only what a file's content decides is worth keeping (parsed, unparsable).
PLAIN_STATUSES = frozenset({"parsed", "unparsable"})


def index_to_plain(index: TestFileIndex) -> list[Any] | None:
    """The index as plain values; None when it is not kept (a status the file's content does not decide, or
    classes nested deeper than MAX_PLAIN_DEPTH)."""
    if index.status not in PLAIN_STATUSES:
        return None
    scope = _scope_to_plain(index.module, 0)
    return None if scope is None else [index.status, index.detail, scope]


def _scope_to_plain(scope: Scope, depth: int) -> list[Any] | None:
    if depth > MAX_PLAIN_DEPTH:
        return None
    classes: dict[str, Any] = {}
    for name, inner in scope.classes.items():
        plain = _scope_to_plain(inner, depth + 1)
        if plain is None:
            return None
        classes[name] = plain
    return [sorted(scope.defs), sorted(scope.others), classes, list(scope.bases), scope.open]


def index_from_plain(value: Any) -> TestFileIndex | None:
    """The index `index_to_plain` gave, or None when `value` is not of that shape (a cache is data from disk)."""
    if type(value) is not list or len(value) != 3:
        return None
    status, detail, plain = value
    if status not in PLAIN_STATUSES or type(detail) is not str:
        return None
    scope = _scope_from_plain(plain, 0)
    return None if scope is None else TestFileIndex(status, detail, scope)


def _strings(value: Any) -> bool:
    return type(value) is list and all(type(item) is str for item in value)


def _scope_from_plain(value: Any, depth: int) -> Scope | None:
    if depth > MAX_PLAIN_DEPTH or type(value) is not list or len(value) != 5:
        return None
    defs, others, classes, bases, is_open = value
    if not (_strings(defs) and _strings(others) and _strings(bases) and type(is_open) is bool):
        return None
    if type(classes) is not dict:
        return None
    inner: dict[str, Scope] = {}
    for name, plain in classes.items():
        scope = _scope_from_plain(plain, depth + 1)
        if scope is None:
            return None
        inner[name] = scope
    return Scope(frozenset(defs), frozenset(others), inner, tuple(bases), is_open)
