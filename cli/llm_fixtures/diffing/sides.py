"""The two sides of a diff, as lists of sources: files and folders on disk, git revisions, the working tree; and
the volatile fields the project sets. Reads names and blob ids, and only the JSON files outside every `recordings`
folder (to leave out those that are not recordings), never a recording's content."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_fixtures.config import Project
from llm_fixtures.decoding import is_foreign, parse_json
from llm_fixtures.diffing.gitreading import (
    Repository,
    blob_id,
    clean_index_blobs,
    list_blobs,
    open_repository,
    read_blobs,
    resolve_revision,
    split_range,
)
from llm_fixtures.diffing.volatility import Volatility, build_volatility
from llm_fixtures.discovery import is_cassette_name, select_files
from llm_fixtures.errors import BadRecording, PathNotFound, UsageError
from llm_fixtures.safepaths import read_regular


@dataclass(frozen=True, slots=True)
class Source:
    """Where one side of a recording lives: a file on disk or a git blob. `fingerprint` is the git blob id of
    its bytes (computed for files) so identical content is recognised without parsing."""

    key: str
    display: str
    fingerprint: str | None = None
    path: Path | str | None = None
    oid: str | None = None
    # Why the walk did not take it (a link out of the project, a name that is not UTF-8): never read, its error.
    problem: str | None = None


@dataclass(slots=True)
class Tree:
    """One side of a diff: sources by key (a path relative to what is compared), and a label for humans."""

    label: str
    sources: dict[str, Source] = field(default_factory=dict)
    repo: Repository | None = None
    # Whether the keys are the recordings' own paths (false for two files compared whatever their names).
    named: bool = True
    # JSON files outside every `recordings` folder that are not recordings (a package.json, a list of suites):
    # left out, as `ls` and `check` leave them out, and noted.
    skipped: list[str] = field(default_factory=list)


def volatility_of(project: Project) -> Volatility:
    """The volatile fields of this project: built in, plus `[tool.fixtures] volatile` and
    `[tool.fixtures.diff] volatile`."""
    light = _plain_volatile(project.table)
    if light is not None:
        return build_volatility(light)
    settings = project.settings
    return build_volatility([*settings.volatile, *settings.diff.volatile])


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _plain_volatile(table: dict[str, Any]) -> list[str] | None:
    """The volatile entries of a `[tool.fixtures]` table that holds nothing but lists of strings under `roots`,
    `volatile` and `[tool.fixtures.diff] volatile`: a table the settings models would take as it is (so
    there is nothing they could reject, and no need to build them). None for any other table."""
    diff = table.get("diff", {})
    if not set(table) <= {"roots", "volatile", "diff"} or not isinstance(diff, dict) or not set(diff) <= {"volatile"}:
        return None
    lists = (table.get("roots", []), table.get("volatile", []), diff.get("volatile", []))
    if not all(_strings(value) for value in lists):
        return None
    return [*lists[1], *lists[2]]


def _shown(path: Path | str, cwd: Path) -> str:
    """A path as shown: relative to the current folder when under it, else absolute (string operations only:
    this runs for every file of both sides)."""
    text, base = os.path.abspath(path), str(cwd)  # noqa: PTH100 (a string is what we want, fast)
    if text.startswith(base + os.sep):
        return text[len(base) + 1 :]
    return text


def _file_fingerprint(path: str, object_format: str = "sha1") -> str | None:
    try:
        return blob_id(read_regular(path), object_format)
    except OSError:  # NotRegularFile too: such a file is read, and reported, with the others
        return None


def _outside_recordings(names: Iterable[str]) -> list[str]:
    """The names, cassettes apart, outside every `recordings` folder: there a JSON file may be something else (the
    location rule of `decoding.is_foreign`, asked with no content, once per folder: this runs for every file of both
    sides)."""
    found: list[str] = []
    outside: dict[str, bool] = {}
    for name in names:
        folder = name.replace("\\", "/").rpartition("/")[0]
        if folder not in outside:
            outside[folder] = is_foreign(None, name)
        if outside[folder] and not is_cassette_name(name):
            found.append(name)
    return found


# A pretty-printed object: its first key's indentation, which every top-level key has (nested keys have more).
_FIRST_KEY = re.compile(rb'\{\r?\n([ \t]+)"')


def _plainly_recording(data: bytes) -> bool:
    """A pretty-printed object with a top-level `request` or `response` key: a recording, without parsing it (the
    start of a file is enough to tell, when it says so)."""
    first = _FIRST_KEY.match(data)
    if first is None:
        return False
    indent = b"\n" + first.group(1)
    return indent + b'"request":' in data or indent + b'"response":' in data


def _is_foreign(data: bytes, name: str) -> bool:
    """Whether a file's bytes are valid JSON that is no recording (a file that does not parse is no more foreign
    than in a `recordings` folder: it is compared, and reported). A plain recording is not parsed; the rest is."""
    if _plainly_recording(data):
        return False
    try:
        raw = parse_json(data, name)
    except (BadRecording, ValueError, RecursionError):
        return False
    return is_foreign(raw, name)


def _foreign_files(names: Sequence[str]) -> set[str]:
    """The files of `names` outside every `recordings` folder that are not recordings."""
    found: set[str] = set()
    for name in _outside_recordings(names):
        try:
            # Its start first: a recording's says so (this runs in the one process, before any comparison).
            data = read_regular(name, head=_HEAD)
            if _plainly_recording(data):
                continue
            if len(data) == _HEAD:
                data = read_regular(name)
        except OSError:  # NotRegularFile too: read, and reported, with the others
            continue
        if _is_foreign(data, name):
            found.add(name)
    return found


_HEAD = 4096


def _add_problems(tree: Tree, problems: Sequence[BadRecording], key_of: Callable[[str], str | None], cwd: Path) -> None:
    """The paths the walk could not take, each a source that is only its error (never read)."""
    for problem in problems:
        name = str(problem.path)
        key = key_of(name)
        if key is not None:
            tree.sources[key] = Source(key, _shown(name, cwd), problem=problem.reason)


def folder_tree(root: Path, project: Project, cwd: Path) -> Tree:
    """Every recording file under a folder, keyed by its path inside the folder (string operations only: this
    runs for every file of both sides); the paths the walk could not take, as their errors."""
    selection = select_files([root], project)
    tree = Tree(label=_shown(root, cwd) if root.is_absolute() else str(root))
    prefix = str(root).rstrip(os.sep) + os.sep
    # The walk joins plain entry names onto the root as given: a file's absolute path is the root's and the rest.
    absolute_prefix = os.path.abspath(root).rstrip(os.sep) + os.sep  # noqa: PTH100 (as in _shown)
    base = str(cwd) + os.sep
    foreign = _foreign_files(selection.names)
    for name in [*selection.names, *selection.cassettes]:
        if name in foreign:
            tree.skipped.append(_shown(name, cwd))
            continue
        if name.startswith(prefix):
            inside = name[len(prefix) :]
            absolute = absolute_prefix + inside
            shown = absolute[len(base) :] if absolute.startswith(base) else absolute
        else:  # anything else goes the slow way
            inside, shown = Path(name).relative_to(root).as_posix(), _shown(name, cwd)
        key = inside.replace(os.sep, "/")
        # No fingerprint: two folders are compared file against file, bytes only when the sizes agree.
        tree.sources[key] = Source(key, shown, None, path=name)
    _add_problems(tree, selection.problems, lambda name: _inside_key(name, root), cwd)
    return tree


def _inside_key(name: str, root: Path) -> str | None:
    """A path's key in the tree of the folder `root` (its path inside it; `.` for the folder itself)."""
    relative = os.path.relpath(name, root)
    return None if relative.startswith("..") else relative.replace(os.sep, "/")


def file_tree(path: Path, cwd: Path, key: str) -> Tree:
    """A single file as a one-entry side (two files are compared whatever their names)."""
    if not path.exists() and not path.is_symlink():
        raise PathNotFound(path)
    shown = _shown(path, cwd)
    return Tree(label=shown, sources={key: Source(key, shown, None, path=str(path))}, named=False)


def _in_recordings_folder(key: str) -> bool:
    return "recordings" in key.split("/")[:-1]


def git_tree(repo: Repository, revision: str, pathspecs: Sequence[str], cwd: Path, *, only_recordings: bool) -> Tree:
    """The recording files of a revision (read through `git ls-tree`, nothing checked out)."""
    commit = resolve_revision(repo, revision)
    tree = Tree(label=f"{revision} ({commit[:10]})", repo=repo)
    root = str(repo.root)
    for key, oid in list_blobs(repo, commit, pathspecs).items():
        if is_cassette_name(key):
            if "cassettes" not in key.split("/")[:-1]:
                continue
        elif not key.endswith(".json") or (only_recordings and not _in_recordings_folder(key)):
            continue
        # Joined as strings (`_shown` normalizes the path): a Path per key would be most of this loop's time.
        tree.sources[key] = Source(key, _shown(os.path.join(root, key), cwd), oid, oid=oid)  # noqa: PTH118
    # JSON outside every `recordings` folder (a path or a root given) may be something else: its blob tells.
    outside = {key: tree.sources[key].oid or "" for key in _outside_recordings(tree.sources)}
    if outside:
        blobs = read_blobs(repo, outside.values())
        for key, oid in outside.items():
            if oid in blobs and _is_foreign(blobs[oid], key):
                tree.skipped.append(tree.sources.pop(key).display)
    return tree


def _repo_key(repo: Repository, path: Path | str) -> str | None:
    """A path as git names it (relative to the top of the repository), or None when it is outside."""
    root = str(repo.root)
    for candidate in (os.path.abspath(path), None):  # noqa: PTH100 (as above)
        candidate = candidate if candidate is not None else os.path.realpath(path)
        if candidate == root:
            return ""
        if candidate.startswith(root + os.sep):
            return candidate[len(root) + 1 :].replace(os.sep, "/")
    return None


def worktree(repo: Repository, paths: Sequence[Path], project: Project, cwd: Path) -> Tree:
    """The recording files of the working tree under `paths` (default: the project's recording folders), keyed by
    their path in the repository and fingerprinted as git would hash them."""
    tree = Tree(label="working tree", repo=repo)
    existing = [path for path in paths if path.exists() or path.is_symlink()]
    if paths and not existing:
        return tree
    selection = select_files(existing or None, project)
    # What git already knows is clean needs no reading; the rest is hashed here as git would hash it.
    known = clean_index_blobs(repo, [_repo_key(repo, path) or "." for path in existing])
    foreign = _foreign_files(selection.names)
    for name in [*selection.names, *selection.cassettes]:
        key = _repo_key(repo, name)
        if key is None:
            continue
        if name in foreign:
            tree.skipped.append(_shown(name, cwd))
            continue
        fingerprint = known.get(key) or _file_fingerprint(name, repo.object_format)
        tree.sources[key] = Source(key, _shown(name, cwd), fingerprint, path=name)
    _add_problems(tree, selection.problems, lambda name: _repo_key(repo, name), cwd)
    return tree


def git_sides(spec: str, paths: Sequence[Path], project: Project, cwd: Path) -> tuple[Tree, Tree]:
    """`--git REV` (REV against the working tree) or `--git A..B`, narrowed to `paths`."""
    old_rev, new_rev = split_range(spec)
    repo = open_repository(paths[0] if paths else cwd)
    root = repo.root.resolve()
    pathspecs: list[str] = []
    for path in paths:
        absolute = (cwd / path).resolve() if not path.is_absolute() else path.resolve()
        try:
            pathspecs.append(absolute.relative_to(root).as_posix() or ".")
        except ValueError:
            raise UsageError(f"{path}: not inside the git repository {root}") from None
    # The paths given narrow the comparison and must exist on one side; without them, the project's roots do.
    given = list(pathspecs)
    only_recordings = not pathspecs
    if not pathspecs:
        if project.settings.roots is not None:
            pathspecs = [
                (project.root / r).resolve().relative_to(root).as_posix()
                for r in project.settings.roots
                if (project.root / r).resolve().is_relative_to(root)
            ]
            only_recordings = False
        elif project.root.resolve() != root and project.root.resolve().is_relative_to(root):
            pathspecs = [project.root.resolve().relative_to(root).as_posix()]
    old = git_tree(repo, old_rev, pathspecs, cwd, only_recordings=only_recordings)
    if new_rev is None:
        new = worktree(repo, [Path(root / p) for p in pathspecs] if paths else [], project, cwd)
    else:
        new = git_tree(repo, new_rev, pathspecs, cwd, only_recordings=only_recordings)
    for path, spec_path in zip(paths, given, strict=True):
        prefix = "" if spec_path == "." else spec_path
        hit = any(key == prefix or key.startswith(prefix.rstrip("/") + "/") or not prefix for key in old.sources)
        hit = hit or any(key == prefix or key.startswith(prefix.rstrip("/") + "/") for key in new.sources)
        if not hit and not path.exists():
            raise PathNotFound(path)
    return old, new
