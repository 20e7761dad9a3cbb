"""Which files to work on: the `recordings` and `cassettes` folders of the project, `[tool.fixtures] roots`, or given
paths."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llm_fixtures.config import Project
from llm_fixtures.errors import BadRecording, PathNotFound

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "site-packages",
        "build",
        "dist",
    }
)
RECORDING_SUFFIXES = (".json",)
# VCR cassettes: YAML (maybe gzipped) anywhere under a `cassettes` folder, or JSON there (vcrpy's JSON serializer).
CASSETTE_FOLDER = "cassettes"
CASSETTE_SUFFIXES = (".yaml", ".yml", ".yaml.gz", ".yml.gz")


@dataclass
class Selection:
    """The recording files found, in a stable order, the VCR cassettes (`cassettes`), and the paths that could
    not be walked. Paths are kept as strings (`names`): building thousands of Path objects costs more than reading a
    warm cache."""

    names: list[str] = field(default_factory=list)
    cassettes: list[str] = field(default_factory=list)
    problems: list[BadRecording] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [Path(name) for name in self.names]


def _is_virtualenv(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").is_file()


def find_recording_dirs(root: Path) -> list[Path]:
    """Every folder named `recordings` or `cassettes` under `root` (not inside another one), skipping VCS
    folders, virtual environments and node_modules. One walk finds both."""
    found: list[Path] = []
    for current, dirs, _files in os.walk(root):
        here = Path(current)
        if here.name in ("recordings", CASSETTE_FOLDER) and here != root:
            found.append(here)
            dirs[:] = []
            continue
        dirs[:] = sorted(
            d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info") and not _is_virtualenv(here / d)
        )
    return sorted(found)


def default_roots(project: Project) -> list[Path]:
    """`[tool.fixtures] roots` (relative to the pyproject), or every `recordings` folder of the project."""
    if project.settings.roots is not None:
        return [project.root / root for root in project.settings.roots]
    return find_recording_dirs(project.root)


def is_cassette_name(path: str) -> bool:
    """Whether a file is a cassette by its name: YAML (maybe gzipped), or JSON inside a `cassettes` folder."""
    if path.endswith(CASSETTE_SUFFIXES):
        return True
    return path.endswith((".json", ".json.gz")) and f"{os.sep}{CASSETTE_FOLDER}{os.sep}" in f"{os.sep}{path}"


def _in_cassettes(path: str) -> bool:
    return f"{os.sep}{CASSETTE_FOLDER}{os.sep}" in f"{os.sep}{path}"


def _walk(folder: Path, selection: Selection, seen: set[tuple[int, int]]) -> None:
    try:
        stat = folder.stat()
    except OSError as exc:
        reason = "symbolic link loop" if exc.errno == 40 else (exc.strerror or str(exc))
        selection.problems.append(BadRecording(folder, reason))
        return
    key = (stat.st_dev, stat.st_ino)
    if key in seen:
        selection.problems.append(BadRecording(folder, "symbolic link loop (folder already visited)"))
        return
    seen.add(key)
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except PermissionError:
        selection.problems.append(BadRecording(folder, "permission denied (cannot list folder)"))
        return
    except OSError as exc:
        selection.problems.append(BadRecording(folder, exc.strerror or str(exc)))
        return
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if entry.name.endswith(RECORDING_SUFFIXES):
                selection.problems.append(BadRecording(entry.path, "is a directory, not a recording file"))
                continue
            if entry.name in SKIP_DIRS:
                continue
            _walk(Path(entry.path), selection, seen)
        elif entry.name.endswith(RECORDING_SUFFIXES) and not (
            entry.name.endswith(".json") and _in_cassettes(entry.path)
        ):
            selection.names.append(entry.path)
        elif entry.name.endswith((*CASSETTE_SUFFIXES, ".json", ".json.gz")) and _in_cassettes(entry.path):
            selection.cassettes.append(entry.path)


def select_files(paths: Sequence[Path] | None, project: Project) -> Selection:
    """The recording files under `paths` (files are taken as given), or under the project's default roots.
    A path that does not exist raises PathNotFound."""
    selection = Selection()
    roots = list(paths) if paths else default_roots(project)
    for root in roots:
        if not root.exists() and not root.is_symlink():
            if paths:
                raise PathNotFound(root)
            continue
    seen: set[tuple[int, int]] = set()
    for root in roots:
        if root.is_dir():
            _walk(root, selection, seen)
        elif root.exists() or root.is_symlink():
            (selection.cassettes if is_cassette_name(str(root)) else selection.names).append(str(root))
    selection.names = list(dict.fromkeys(selection.names))
    selection.cassettes = list(dict.fromkeys(selection.cassettes))
    return selection


def display_path(path: Path | str, base: Path | str) -> str:
    """A path as shown to the user: relative to `base` when it is an absolute path under it, else as given."""
    text = str(path)
    prefix = str(base).rstrip(os.sep) + os.sep
    return text[len(prefix) :] if text.startswith(prefix) else text
