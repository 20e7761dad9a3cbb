"""Settings: defaults, then `[tool.fixtures]` of the nearest pyproject.toml, then flags."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_fixtures.errors import ConfigError
from llm_fixtures.safepaths import read_regular

if TYPE_CHECKING:
    from llm_fixtures.settings import Settings

# The keys of `[tool.fixtures]` (a test keeps this equal to the fields of settings.Settings).
SETTINGS_KEYS = ("roots", "volatile", "diff", "check", "prune", "rerecord")


class Project:
    """Where the project is, and its settings.

    `settings` is validated (with pydantic) on first use; `roots` needs only a light check, so that
    `fixtures ls` starts without building any pydantic model.
    """

    def __init__(
        self,
        root: Path,
        pyproject: Path | None = None,
        settings: Settings | None = None,
        table: dict[str, Any] | None = None,
    ) -> None:
        self.root = root
        self.pyproject = pyproject
        self.table = table or {}
        self._settings = settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = validate_settings(self.table, self.pyproject)
        return self._settings

    @property
    def roots(self) -> list[str] | None:
        """`[tool.fixtures] roots`, checked without pydantic; unknown keys of the table fail here too."""
        if self._settings is not None:
            return self._settings.roots
        unknown = sorted(set(self.table) - set(SETTINGS_KEYS))
        if unknown:
            self._settings = validate_settings(self.table, self.pyproject)
        roots = self.table.get("roots")
        if roots is None:
            return None
        if not isinstance(roots, list) or not all(isinstance(root, str) for root in roots):
            return self.settings.roots
        return roots


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


def read_table(pyproject: Path | None) -> dict[str, Any]:
    """The raw `[tool.fixtures]` table of `pyproject` ({} when there is none)."""
    if pyproject is None:
        return {}
    try:
        document = tomllib.loads(read_regular(pyproject).decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"{pyproject}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{pyproject}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: {exc}") from None
    except (ValueError, RecursionError):  # an integer beyond Python's digit limit, arrays nested too deeply
        raise ConfigError(f"{pyproject}: invalid TOML: a value too large or nested too deeply") from None
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{pyproject}: [tool] must be a table")
    table = tool.get("fixtures", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.fixtures] must be a table")
    return table


def read_settings(pyproject: Path | None) -> Settings:
    """`[tool.fixtures]` of `pyproject`, validated; defaults when there is none."""
    return validate_settings(read_table(pyproject), pyproject)


def validate_settings(table: dict[str, Any], pyproject: Path | None) -> Settings:
    from pydantic import ValidationError

    from llm_fixtures.settings import Settings

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
    return Project(root=root, pyproject=pyproject, table=read_table(pyproject))


def __getattr__(name: str) -> Any:
    """The settings models live in `llm_fixtures.settings` (pydantic); importable from here too."""
    if name in {"Settings", "Section", "DiffSettings", "CheckSettings", "PruneSettings", "RerecordSettings"}:
        from llm_fixtures import settings

        return getattr(settings, name)
    raise AttributeError(name)
