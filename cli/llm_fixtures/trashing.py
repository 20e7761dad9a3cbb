"""Reversible deletes: a file git can restore is deleted, any other goes into a trash batch; undo the last."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from llm_fixtures.errors import FixtureError, WriteError
from llm_fixtures.store import write_atomic

TRASH_FOLDER = "fixtures-trash"  # inside the git dir, where no walker and no `git status` sees it
PLAIN_TRASH_FOLDER = ".fixtures-trash"  # in the project root, when there is no git repository
MANIFEST = "manifest.json"
# Trashed files keep no `.json` suffix and no `recordings` folder, so nothing takes them for recordings.
TRASHED_SUFFIX = ".trashed"
How = Literal["git", "trash"]


class UnsafeDelete(FixtureError):
    """A path to delete is outside the project, a folder, or missing; nothing was deleted."""


class RestoreConflict(FixtureError):
    """A file to restore exists again with other content; nothing was restored."""


@dataclass(frozen=True, slots=True)
class TrashEntry:
    """One removed file: its path relative to the project root, and how it comes back (from the git object
    store by `blob`, or from the batch folder)."""

    path: str
    how: How
    blob: str | None = None
    mode: int = 0o644


@dataclass(frozen=True, slots=True)
class TrashBatch:
    """The files one call removed, and the folder whose manifest can put them back."""

    folder: Path
    project_root: Path
    entries: tuple[TrashEntry, ...]

    @property
    def paths(self) -> list[Path]:
        return [self.project_root / entry.path for entry in self.entries]

    @property
    def deleted(self) -> int:
        """How many were deleted outright (git can restore them)."""
        return sum(entry.how == "git" for entry in self.entries)

    @property
    def trashed(self) -> int:
        """How many were moved into the batch folder."""
        return sum(entry.how == "trash" for entry in self.entries)


@dataclass(frozen=True, slots=True)
class _Git:
    toplevel: Path
    git_dir: Path


def _git(args: list[str], cwd: Path, stdin: bytes | None = None) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    except OSError:
        return None
    return done.stdout if done.returncode == 0 else None


def _find_git(root: Path) -> _Git | None:
    out = _git(["rev-parse", "--show-toplevel", "--absolute-git-dir"], root)
    if out is None:
        return None
    lines = out.decode().splitlines()
    if len(lines) != 2:
        return None
    return _Git(Path(os.path.realpath(lines[0])), Path(lines[1]))


def trash_folder(project_root: Path) -> Path:
    """Where batches are kept: `<git dir>/fixtures-trash`, or `<project>/.fixtures-trash` without git."""
    git = _find_git(project_root)
    if git is not None:
        return git.git_dir / TRASH_FOLDER
    return Path(os.path.realpath(project_root)) / PLAIN_TRASH_FOLDER


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _why_not(path: Path, root: Path) -> tuple[Path, str | None]:
    """The path with its folder resolved (the file itself may be a link, which is removed, not followed), and
    why it may not be removed: outside `root` (lexically or through a linked folder), a folder, missing."""
    absolute = Path(path).absolute()
    real = Path(os.path.realpath(absolute.parent)) / absolute.name
    if not _inside(real.parent, root):
        return real, f"outside the project {root}"
    if not real.is_symlink() and not real.is_file():
        return real, "a folder" if real.is_dir() else "no such file"
    return real, None


def refusals(paths: Sequence[Path], project_root: Path) -> dict[Path, str]:
    """The paths `remove_reversibly` would refuse, and why (so a caller can leave them out and say so)."""
    root = Path(os.path.realpath(project_root))
    found: dict[Path, str] = {}
    for path in paths:
        _, reason = _why_not(path, root)
        if reason is not None:
            found[path] = reason
    return found


def _checked(paths: Sequence[Path], root: Path) -> list[Path]:
    """Each path with its folder resolved; UnsafeDelete naming every path that may not be removed."""
    checked: list[Path] = []
    bad: list[str] = []
    for path in paths:
        real, reason = _why_not(path, root)
        if reason is not None:
            bad.append(f"{path}: {reason}")
        else:
            checked.append(real)
    if bad:
        raise UnsafeDelete("nothing deleted:\n  " + "\n  ".join(bad))
    return list(dict.fromkeys(checked))


def _index_entries(git: _Git) -> dict[str, tuple[int, str]]:
    """`path relative to the toplevel -> (mode, blob)` of every stage-0 index entry."""
    out = _git(["ls-files", "-s", "-z"], git.toplevel)
    entries: dict[str, tuple[int, str]] = {}
    for record in (out or b"").split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[2] == b"0":
            entries[os.fsdecode(name)] = (int(fields[0], 8), fields[1].decode())
    return entries


def _git_restorable(paths: list[Path], git: _Git | None) -> dict[Path, tuple[int, str]]:
    """The paths that are tracked regular files whose content is exactly the index blob."""
    if git is None or not paths:
        return {}
    index = _index_entries(git)
    tracked: list[tuple[Path, int, str]] = []
    for path in paths:
        if path.is_symlink() or not _inside(path, git.toplevel) or "\n" in str(path):
            continue
        entry = index.get(path.relative_to(git.toplevel).as_posix())
        if entry is not None and entry[0] in (0o100644, 0o100755):
            tracked.append((path, *entry))
    if not tracked:
        return {}
    out = _git(["hash-object", "--stdin-paths"], git.toplevel, "\n".join(str(p) for p, _, _ in tracked).encode())
    hashes = (out or b"").decode().split()
    if len(hashes) != len(tracked):
        return {}
    return {
        path: (mode & 0o777, blob)
        for (path, mode, blob), current in zip(tracked, hashes, strict=True)
        if current == blob
    }


def _new_batch_folder(trash: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = trash / stamp
    suffix = 1
    while folder.exists():
        folder = trash / f"{stamp}-{suffix}"
        suffix += 1
    return folder


def _write_manifest(folder: Path, root: Path, entries: Sequence[TrashEntry]) -> None:
    document = {
        "format": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "project_root": str(root),
        "entries": [
            {"path": entry.path, "how": entry.how, "blob": entry.blob, "mode": oct(entry.mode)} for entry in entries
        ],
    }
    write_atomic(folder / MANIFEST, (json.dumps(document, indent=2) + "\n").encode())


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        source.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(str(source), str(target))


def _trashed_name(index: int, entry: TrashEntry) -> str:
    return f"files/{index:06d}-{Path(entry.path).name}{TRASHED_SUFFIX}"


def remove_reversibly(paths: Sequence[Path], project_root: Path) -> TrashBatch:
    """Remove files so that `restore_last` can put them back: a tracked file whose content git holds is
    deleted (git restores it); any other is moved into a new trash batch. The batch manifest is written before
    the first file goes. Raises UnsafeDelete (before touching anything) for a path outside `project_root`."""
    root = Path(os.path.realpath(project_root))
    checked = _checked(paths, root)
    git = _find_git(root)
    restorable = _git_restorable(checked, git)
    entries: list[TrashEntry] = []
    for path in checked:
        relative = path.relative_to(root).as_posix()
        if path in restorable:
            mode, blob = restorable[path]
            entries.append(TrashEntry(relative, "git", blob, mode))
        else:
            mode = path.lstat().st_mode & 0o777
            entries.append(TrashEntry(relative, "trash", None, mode))
    trash = git.git_dir / TRASH_FOLDER if git is not None else root / PLAIN_TRASH_FOLDER
    folder = _new_batch_folder(trash)
    if not entries:
        return TrashBatch(folder, root, ())
    try:
        folder.mkdir(parents=True)
        _write_manifest(folder, root, entries)
        for index, entry in enumerate(entries):
            source = root / entry.path
            if entry.how == "git":
                source.unlink()
            else:
                _move(source, folder / _trashed_name(index, entry))
    except OSError as exc:
        raise WriteError(
            f"{exc.filename or folder}: {exc.strerror or exc}; `fixtures prune --restore` puts back what went"
        ) from None
    return TrashBatch(folder, root, tuple(entries))


def _batches(trash: Path) -> list[Path]:
    if not trash.is_dir():
        return []
    return sorted(child for child in trash.iterdir() if (child / MANIFEST).is_file())


def _read_manifest(folder: Path) -> tuple[Path, list[TrashEntry]]:
    try:
        document: Any = json.loads((folder / MANIFEST).read_text())
        root = Path(document["project_root"])
        entries = [
            TrashEntry(str(item["path"]), item["how"], item.get("blob"), int(str(item.get("mode", "0o644")), 8))
            for item in document["entries"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FixtureError(f"{folder / MANIFEST}: unreadable trash manifest: {exc}") from None
    for entry in entries:
        if entry.how not in ("git", "trash") or Path(entry.path).is_absolute() or ".." in Path(entry.path).parts:
            raise FixtureError(f"{folder / MANIFEST}: bad entry {entry.path!r}")
    return root, entries


def _blobs(blobs: list[str], cwd: Path) -> dict[str, bytes]:
    """The content of git blobs, read in one `git cat-file --batch`."""
    if not blobs:
        return {}
    out = _git(["cat-file", "--batch"], cwd, "".join(f"{blob}\n" for blob in blobs).encode())
    if out is None:
        raise FixtureError(f"{cwd}: git cat-file failed; cannot restore deleted files")
    contents: dict[str, bytes] = {}
    position = 0
    for blob in blobs:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise FixtureError(f"git no longer has blob {blob}; restore it from your history instead")
        size = int(header[2])
        contents[blob] = out[end + 1 : end + 1 + size]
        position = end + 1 + size + 1
    return contents


def restore_last(project_root: Path) -> list[Path]:
    """Put the files of the last trash batch back and forget the batch; the restored paths. All or nothing: a
    file that exists again with other content raises RestoreConflict and nothing is restored. [] when there
    is no batch."""
    trash = trash_folder(project_root)
    batches = _batches(trash)
    if not batches:
        return []
    folder = batches[-1]
    root, entries = _read_manifest(folder)
    if Path(os.path.realpath(root)) != Path(os.path.realpath(project_root)):
        raise FixtureError(
            f"{folder / MANIFEST}: the last batch was removed from {root}, not {project_root}; run --restore there"
        )
    git = _find_git(root)
    contents = _blobs(
        sorted({entry.blob for entry in entries if entry.how == "git" and entry.blob}),
        git.toplevel if git is not None else root,
    )
    plan: list[tuple[Path, TrashEntry, Path | None, bytes | None]] = []
    conflicts: list[str] = []
    for index, entry in enumerate(entries):
        target = root / entry.path
        source = folder / _trashed_name(index, entry) if entry.how == "trash" else None
        data = contents.get(entry.blob or "") if entry.how == "git" else None
        if source is not None and not source.exists() and target.exists():
            continue  # never moved (the delete stopped early)
        if target.exists() or target.is_symlink():
            wanted = data if data is not None else (source.read_bytes() if source is not None else None)
            if target.is_file() and wanted is not None and target.read_bytes() == wanted:
                if source is not None:
                    source.unlink()
                continue
            conflicts.append(str(target))
            continue
        plan.append((target, entry, source, data))
    if conflicts:
        raise RestoreConflict(
            "nothing restored; these files exist again with other content (move them away first):\n  "
            + "\n  ".join(conflicts)
        )
    restored: list[Path] = []
    for target, entry, source, data in plan:
        if source is not None:
            _move(source, target)
        elif data is not None:
            write_atomic(target, data)
            target.chmod(entry.mode)
        else:
            raise FixtureError(f"{target}: its git blob {entry.blob} is gone; restore it from your history")
        restored.append(target)
    shutil.rmtree(folder, ignore_errors=True)
    return sorted(restored)
