"""Settings: defaults, then `[tool.fixtures]` of the nearest pyproject.toml, then the environment, then flags."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llm_fixtures.errors import ConfigError


class Section(BaseModel):
    """A table of `[tool.fixtures]`: a typo in a key fails with the key named."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DiffSettings(Section):
    """`[tool.fixtures.diff]`."""

    volatile: list[str] = Field(default_factory=list, description="extra volatile field names or paths")


class CheckSettings(Section):
    """`[tool.fixtures.check]`."""

    allow_secrets: list[str] = Field(default_factory=list, description="strings or regexes never reported")
    max_file_bytes: int = 1_000_000
    max_image_bytes: int = 200_000


class PruneSettings(Section):
    """`[tool.fixtures.prune]`."""

    collect: list[list[str]] = Field(default_factory=list, description="pytest --collect-only commands")


class RerecordSettings(Section):
    """`[tool.fixtures.rerecord]`."""

    preset: str | None = None
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)


class Settings(Section):
    """The whole `[tool.fixtures]` table."""

    roots: list[str] | None = None
    volatile: list[str] = Field(default_factory=list)
    diff: DiffSettings = Field(default_factory=DiffSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)
    prune: PruneSettings = Field(default_factory=PruneSettings)
    rerecord: RerecordSettings = Field(default_factory=RerecordSettings)


class Project(BaseModel):
    """Where the project is, and its settings."""

    root: Path
    pyproject: Path | None
    settings: Settings


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def find_project_root(start: Path) -> Path:
    """The folder of the nearest pyproject.toml or .git at or above `start`; `start` itself if none."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return start


def read_settings(pyproject: Path | None) -> Settings:
    """`[tool.fixtures]` of `pyproject`, validated; defaults when there is none."""
    if pyproject is None:
        return Settings()
    try:
        with pyproject.open("rb") as handle:
            document: dict[str, Any] = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{pyproject}: {exc}") from exc
    table = document.get("tool", {}).get("fixtures", {})
    try:
        return Settings.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{pyproject}: [tool.fixtures] {where}: {first['msg']}") from exc


def load_project(cwd: Path | None = None) -> Project:
    """The project around `cwd` (default: the current directory)."""
    cwd = (cwd or Path.cwd()).resolve()
    pyproject = find_pyproject(cwd)
    root = pyproject.parent if pyproject is not None else find_project_root(cwd)
    return Project(root=root, pyproject=pyproject, settings=read_settings(pyproject))
