"""The layer contract (`[tool.importlinter]` in pyproject.toml, checked by `lint-imports` in .ci/run) covers every
module of the package: a new module must be given its layer, or the contract would say nothing about it."""

from __future__ import annotations

import ast
import tomllib

from conftest import REPO

PACKAGE = REPO / "cli" / "llm_fixtures"
# Package modules in no layer, and why.
UNLAYERED = {"llm_fixtures": "the package itself: its version only"}


def _layered(*, optional: bool = True) -> set[str]:
    """The modules the layers name (`(name)`: optional, a module that may not exist)."""
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [contract for contract in contracts if contract["type"] == "layers"]
    (container,) = contract["containers"]
    names: set[str] = set()
    for layer in contract["layers"]:
        for part in layer.replace("|", ":").split(":"):
            name = part.strip()
            if optional or not name.startswith("("):
                names.add(f"{container}.{name.strip('()')}")
    return names


def _modules() -> dict[str, ast.Module]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = ast.parse(path.read_text())
    return modules


def _imports_the_package(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and (node.module or "").startswith("llm_fixtures") for node in ast.walk(tree)
    )


def test_every_module_is_in_a_layer() -> None:
    layered = _layered()
    modules = _modules()
    missing = []
    for name, tree in modules.items():
        if name in UNLAYERED or any(name == layer or name.startswith(layer + ".") for layer in layered):
            continue
        # A package split between layers (diffing: its pure comparison, its git reading) is in none itself, and so
        # must stay an empty namespace: a docstring, no import of its own.
        split = any(layer.startswith(name + ".") for layer in layered)
        if not (split and not _imports_the_package(tree)):
            missing.append(name)
    assert missing == [], f"modules in no layer of [tool.importlinter] (pyproject.toml): {missing}"


def test_every_layer_names_a_module() -> None:
    modules = _modules()
    assert sorted(name for name in _layered(optional=False) if name not in modules) == []
    assert sorted(name for name in UNLAYERED if name not in modules) == []
