"""The fast command-line coercion agrees with Typer's own (pydantic) coercion, value for value, error for error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer._click import Context, Parameter
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param

from llm_fixtures.app import app
from llm_fixtures.commands.coercion import FastParam, install

TEXTS = ["abc", "", "ünï", "*glob*", "a b", "-"]
NUMBERS = ["0", "5", "-3", "007", "+5", " 5", "1_000", "1.5", "2.50", "1e3", "-0.0", ".5", "0.05", "abc"]
NUMBERS += ["99999999999999999999", "0x10", "nan", "inf"]
CHOICES = ["path", "PATH", "test", "size", "chunks", "endpoint", "provider", "suite", "diff", "json", "http"]
CHOICES += ["pytest", "never", "error", "warning", "nope", "", "inference", "tool", "file-processor", "file_processor"]
FLAGS = ["true", "false", "1", ""]


def fast_params() -> list[tuple[str, Parameter, Context]]:
    group = typer.main.get_command(app)
    found = []
    commands = [("fixtures", group), *sorted(group.commands.items())]  # type: ignore[attr-defined]
    for name, command in commands:
        ctx = Context(command, info_name=name)
        params = command.get_params(ctx)
        install(params)  # as FastCommand.parse_args and FastGroup.parse_args do
        for param in params:
            if isinstance(getattr(param, "_runtime_param", None), FastParam):
                found.append((f"{name} {param.name}", param, ctx))
    return found


def outcome(coerce: Any, value: Any, param: Parameter, ctx: Context) -> tuple[str, Any]:
    try:
        result = coerce(value, param=param, ctx=ctx)
    except BadParameter as exc:
        return "error", exc.format_message()
    return type(result).__name__, result


def samples(tmp_path: Path) -> list[Any]:
    existing = tmp_path / "file.json"
    existing.write_text("{}")
    paths = [str(existing), str(tmp_path), str(tmp_path / "missing.json"), "recordings", "."]
    values: list[Any] = [None, True, False, 3, 0.5, *TEXTS, *NUMBERS, *CHOICES, *FLAGS, *paths]
    return [*values, (), ("a",), ("a", "b"), ("5", "x"), tuple(paths), (str(existing), "abc")]


def test_every_plain_parameter_is_fast() -> None:
    names = {name for name, _, _ in fast_params()}
    # the parameters ls needs, and a sample of every kind of annotation the CLI uses
    for name in ("ls paths", "ls test", "ls sort", "ls limit", "ls group_by", "ls as_json", "fixtures help"):
        assert name in names
    for name in ("rerecord timeout", "rerecord jobs", "check select", "prune unused_from", "show refs"):
        assert name in names


@pytest.mark.parametrize(
    ("name", "param", "ctx"), fast_params(), ids=lambda item: item if isinstance(item, str) else ""
)
def test_fast_coercion_agrees_with_typer(tmp_path: Path, name: str, param: Parameter, ctx: Context) -> None:
    fast = param._runtime_param  # type: ignore[attr-defined]
    typer_own = build_runtime_param(param.type_descriptor)  # type: ignore[attr-defined]
    for value in samples(tmp_path):
        assert outcome(fast.coerce, value, param, ctx) == outcome(typer_own.coerce, value, param, ctx), (name, value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_path_is_refused_as_typer_refuses_it(tmp_path: Path) -> None:
    locked = tmp_path / "locked.json"
    locked.write_text("{}")
    locked.chmod(0)
    (_name, param, ctx) = next(item for item in fast_params() if item[0] == "ls paths")
    typer_own = build_runtime_param(param.type_descriptor)  # type: ignore[attr-defined]
    fast = param._runtime_param  # type: ignore[attr-defined]
    expected = outcome(typer_own.coerce, (str(locked),), param, ctx)
    assert expected[0] == "error"
    assert outcome(fast.coerce, (str(locked),), param, ctx) == expected


def test_a_command_runs_without_pydantic(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from llm_fixtures.app import app\n"
        "try:\n"
        f"    app(['ls', '--json', '--sort', 'size', '--limit', '3', {str(tmp_path)!r}])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print('pydantic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stderr
