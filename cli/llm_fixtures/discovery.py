"""Which files to work on: the `recordings` and `cassettes` folders of the project, `[tool.fixtures] roots`, or given
paths."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llm_fixtures.config import Project
from llm_fixtures.errors import BadRecording, ConfigError, PathNotFound
from llm_fixtures.safepaths import OutsideProject, confined

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
    """`[tool.fixtures] roots` (relative to the pyproject, and inside the project: the table comes with the
    repository, as a pull request may change it), or every `recordings` folder of the project."""
    if project.settings.roots is not None:
        return [_configured_root(root, project) for root in project.settings.roots]
    return find_recording_dirs(project.root)


def _configured_root(root: str, project: Project) -> Path:
    try:
        confined(root, project.root, what=f"{project.pyproject or project.root}: [tool.fixtures] roots")
    except OutsideProject as exc:
        raise ConfigError(str(exc)) from None
    return project.root / root


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _name_problem(name: str) -> str | None:
    """Why a file name cannot be worked with: bytes that are not UTF-8 (a name from another system, or made to
    break the tool) cannot be printed, matched or cached as text."""
    if name.isascii():
        return None
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8; skipped"
    return None


def is_cassette_name(path: str) -> bool:
    """Whether a file is a cassette by its name: YAML (maybe gzipped), or JSON inside a `cassettes` folder."""
    if path.endswith(CASSETTE_SUFFIXES):
        return True
    return path.endswith((".json", ".json.gz")) and f"{os.sep}{CASSETTE_FOLDER}{os.sep}" in f"{os.sep}{path}"


def _in_cassettes(path: str) -> bool:
    return f"{os.sep}{CASSETTE_FOLDER}{os.sep}" in f"{os.sep}{path}"


def _walk(folder: Path, selection: Selection, seen: set[tuple[int, int]], boundary: str) -> None:
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
        name = entry.name
        if name.startswith(".") and name.endswith(".tmp"):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        found: list[str] | None = None  # where a file goes: the recordings or the cassettes (a folder is walked)
        if is_dir:
            if name in SKIP_DIRS:
                continue
        elif name.endswith(RECORDING_SUFFIXES) and not _in_cassettes(entry.path):
            found = selection.names
        elif name.endswith((*CASSETTE_SUFFIXES, ".json", ".json.gz")) and _in_cassettes(entry.path):
            found = selection.cassettes
        else:
            continue
        problem = _name_problem(name)
        if problem is None and entry.is_symlink():
            # A link is followed only while it stays inside the boundary (the project, or the folder given).
            target = os.path.realpath(entry.path)
            if not _inside(target, boundary):
                problem = "symbolic link leading outside the project; not followed"
        if problem is not None:
            shown = os.fsencode(entry.path).decode("utf-8", "backslashreplace")  # the bytes that are not UTF-8 as \xff
            selection.problems.append(BadRecording(shown, problem))
        elif found is not None:
            found.append(entry.path)
        elif name.endswith(RECORDING_SUFFIXES):
            selection.problems.append(BadRecording(entry.path, "is a directory, not a recording file"))
        else:
            _walk(Path(entry.path), selection, seen, boundary)


def select_files(paths: Sequence[Path] | None, project: Project) -> Selection:
    """The recording files under `paths` (files are taken as given), or under the project's default roots.
    A path that does not exist raises PathNotFound. A walk never follows a link out of the project (out of
    the folder given, for a folder given outside the project): such a link is one problem line."""
    selection = Selection()
    roots = list(paths) if paths else default_roots(project)
    for root in roots:
        if not root.exists() and not root.is_symlink():
            if paths:
                raise PathNotFound(root)
            continue
    seen: set[tuple[int, int]] = set()
    project_root = os.path.realpath(project.root)
    for root in roots:
        if root.is_dir():
            real = os.path.realpath(root)
            _walk(root, selection, seen, project_root if _inside(real, project_root) else real)
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
