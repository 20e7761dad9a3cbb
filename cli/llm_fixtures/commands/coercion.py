"""Command-line values parsed without pydantic, exactly as Typer would parse them.

Typer 0.29 coerces every parameter of a command through a pydantic TypeAdapter it builds on first use, even a
parameter left out: importing pydantic and building those adapters is about 100 ms of every command's start-up,
more than `fixtures ls` then spends listing a small project. The values this CLI takes are plain (text, whole and
decimal numbers, paths, enum choices, lists of these), and for a value that is plainly valid the result is known
without pydantic. `FastCommand` and `FastGroup` give each such parameter a coercer that returns that result and
hands every other value (a bad number, an unknown choice, an unreadable path, a type it does not know) to Typer's
own coercion, so a usage error reads exactly as Typer words it. tests/test_coercion.py checks that both agree.

The hooks used (a parameter's `_runtime_param`, `typer._coercion.build_runtime_param`) are Typer 0.29's, which
pyproject.toml pins (<0.30); the tests fail if a release moves them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click import Context, Parameter

_MISS = object()  # a leaf coercer's "not plainly valid: ask Typer"
_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})\Z")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,15})?\Z")

Leaf = Callable[[Any], Any]


class FastParam:
    """The runtime coercion of one Typer parameter: the plainly valid value here, anything else through Typer."""

    def __init__(self, leaf: Leaf, *, is_list: bool) -> None:
        self.leaf = leaf
        self.is_list = is_list

    def coerce(self, value: Any, param: Parameter, ctx: Context) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None
        if self.is_list and multiple and isinstance(value, (list, tuple)):
            items = [self.leaf(item) for item in value]
            if not any(item is _MISS for item in items):
                return items
        elif not self.is_list and not multiple:
            result = self.leaf(value)
            if result is not _MISS:
                return result
        return _typer_coerce(value, param, ctx)


def _typer_coerce(value: Any, param: Parameter, ctx: Context) -> Any:
    """Typer's own coercion (pydantic), for the values the fast path does not vouch for."""
    from typer._coercion import build_runtime_param

    descriptor = param.type_descriptor  # type: ignore[attr-defined]  # a Typer parameter, checked by install()
    return build_runtime_param(descriptor).coerce(value, param=param, ctx=ctx)  # type: ignore[arg-type]


def _flag(value: Any) -> Any:
    return value if isinstance(value, bool) else _MISS


def _text(value: Any) -> Any:
    return value if isinstance(value, str) else _MISS


def _number(kind: type[int] | type[float], low: float | None, high: float | None) -> Leaf:
    pattern = _INT if kind is int else _FLOAT

    def parse(value: Any) -> Any:
        if type(value) is kind:
            number = value
        elif isinstance(value, str) and pattern.match(value):
            number = kind(value)
        else:
            return _MISS
        if (low is not None and number < low) or (high is not None and number > high):
            return _MISS
        return number

    return parse


def _choice(choices: type[Enum]) -> Leaf:
    by_value = {str(member.value): member for member in choices}

    def parse(value: Any) -> Any:
        if isinstance(value, choices):
            return value
        return by_value.get(value, _MISS) if isinstance(value, str) else _MISS

    return parse


def _path(value: Any) -> Any:
    """A path as Typer gives it with the default flags: readable when it exists, anything when it does not."""
    if not isinstance(value, str) or not value:
        return _MISS
    path = Path(value)
    try:
        path.stat()
    except OSError:
        return path
    except ValueError:  # a NUL in the path: whatever Typer does with it
        return _MISS
    return path if os.access(path, os.R_OK) else _MISS


def _plain_path_flags(info: Any) -> bool:
    return (
        info.file_okay
        and info.dir_okay
        and info.readable
        and not (info.exists or info.writable or info.resolve_path or info.allow_dash or info.path_type)
    )


def _leaf(annotation: Any, info: Any) -> Leaf | None:
    """The fast coercer for one (non-list) annotation, or None when Typer must do it."""
    if info.parser is not None or getattr(info, "click_type", None) is not None:
        return None
    if annotation is str:
        return _text
    if annotation is bool:
        return _flag
    if annotation is int or annotation is float:
        return None if info.clamp else _number(annotation, info.min, info.max)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(annotation) if info.case_sensitive else None
    if annotation is Path and _plain_path_flags(info):
        return _path
    return None


def install(params: list[Parameter]) -> None:
    """Give each Typer parameter of a plain type the fast coercion; leave the rest to Typer."""
    for param in params:
        if not isinstance(param, (TyperOption, TyperArgument)) or param._runtime_param is not None:
            continue
        descriptor = param.type_descriptor
        annotation: Any = descriptor.annotation
        is_list = get_origin(annotation) is list
        leaf = _leaf(get_args(annotation)[0] if is_list else annotation, descriptor.parameter_info)
        if leaf is not None and descriptor.file_annotation is None:
            param._runtime_param = FastParam(leaf, is_list=is_list)  # type: ignore[assignment]


class FastCommand(TyperCommand):
    """A Typer command whose plain parameters are parsed without pydantic."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        install(self.get_params(ctx))
        return super().parse_args(ctx, args)


class FastGroup(TyperGroup):
    """The Typer group of the application, its own options (completion and help included) parsed without pydantic."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        install(self.get_params(ctx))
        return super().parse_args(ctx, args)
