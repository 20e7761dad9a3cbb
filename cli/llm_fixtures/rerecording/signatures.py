"""The parameters of test functions, read from their files' syntax trees (never imported): the upstream conftest
puts a model option into a test's id only when the test function names its fixture (`text_model_id`), so the
parameters tell an id that lacks `emb=` because the test takes no embedding model from one whose setup has none."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

from llm_fixtures import nodeids
from llm_fixtures.safepaths import read_regular

MAX_TEST_FILE = 4 * 1024 * 1024


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    arguments = node.args
    return frozenset(arg.arg for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs])


def _find(body: Iterable[ast.stmt], path: list[str]) -> frozenset[str] | None:
    """The parameters of `Class::...::function` (or `function`) among the statements of a module or class."""
    head, rest = path[0], path[1:]
    for node in body:
        if not rest and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == head:
            return _parameters(node)
        if rest and isinstance(node, ast.ClassDef) and node.name == head:
            return _find(node.body, rest)
    return None


def function_parameters(root: Path, node_ids: Iterable[str]) -> dict[str, frozenset[str] | None]:
    """For each node id, the parameter names of its test function; None where the file cannot be read or
    parsed, or the function is not defined plainly in it."""
    trees: dict[str, ast.Module | None] = {}
    found: dict[str, frozenset[str] | None] = {}
    for node_id in node_ids:
        file = nodeids.test_file(node_id)
        if file not in trees:
            try:
                trees[file] = ast.parse(read_regular(root / file, MAX_TEST_FILE).decode("utf-8"), filename=file)
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
                trees[file] = None
        tree = trees[file]
        rest = node_id.split("::", 1)[1].split("[", 1)[0]
        found[node_id] = _find(tree.body, rest.split("::")) if tree is not None else None
    return found
