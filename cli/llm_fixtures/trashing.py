"""Reversible deletes: a file git can restore is deleted, any other goes into a trash batch; undo the last."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from llm_fixtures.errors import FixtureError, GitError, WriteError
from llm_fixtures.gitrunner import run_git
from llm_fixtures.safepaths import OutsideProject, confined, is_inside, read_regular
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
    object_format: str = "sha1"


def _find_git(root: Path) -> _Git | None:
    try:
        out = run_git(["rev-parse", "--show-toplevel", "--absolute-git-dir", "--show-object-format"], root)
    except GitError:
        return None
    lines = os.fsdecode(out).splitlines()
    if len(lines) != 3:
        return None
    object_format = lines[2] if lines[2] in ("sha1", "sha256") else "sha1"
    return _Git(Path(os.path.realpath(lines[0])), Path(lines[1]), object_format)


def trash_folder(project_root: Path) -> Path:
    """Where batches are kept: `<git dir>/fixtures-trash`, or `<project>/.fixtures-trash` without git."""
    return _trash_of(Path(os.path.realpath(project_root)))[0]


class BadTrash(FixtureError):
    """A trash batch that cannot be trusted (its manifest, its files or its folder); nothing was restored."""


def _trash_of(root: Path) -> tuple[Path, _Git | None]:
    """The trash folder of a project (`root` resolved), and its git repository. BadTrash when the folder leads
    out of the git dir (or of the project, without git): no file is ever moved there, or taken from there."""
    git = _find_git(root)
    trash = git.git_dir / TRASH_FOLDER if git is not None else root / PLAIN_TRASH_FOLDER
    boundary = Path(os.path.realpath(git.git_dir if git is not None else root))
    if os.path.lexists(trash) and not is_inside(Path(os.path.realpath(trash)), boundary):
        raise BadTrash(f"{trash}: leads outside {boundary}; nothing moved")
    return trash, git


def _why_not(path: Path, root: Path) -> tuple[Path, str | None]:
    """The path with its folder resolved (the file itself may be a link, which is removed, not followed), and
    why it may not be removed: outside `root` (lexically or through a linked folder), a folder, missing."""
    absolute = Path(path).absolute()
    real = Path(os.path.realpath(absolute.parent)) / absolute.name
    if not is_inside(real.parent, root):
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


def _tracked_blobs(records: bytes, *, index: bool) -> dict[str, tuple[int, str]]:
    """`path -> (mode, blob)` of the regular files in `git ls-files -s -z` (stage 0 only) or `git ls-tree -r -z`
    output."""
    entries: dict[str, tuple[int, str]] = {}
    for record in records.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        fields = meta.split()
        if len(fields) != 3:
            continue
        mode, oid = (fields[0], fields[1]) if index else (fields[0], fields[2])
        if (fields[2] != b"0" if index else fields[1] != b"blob") or mode not in (b"100644", b"100755"):
            continue
        entries[os.fsdecode(name)] = (int(mode, 8), oid.decode())
    return entries


def _committed_blobs(git: _Git) -> tuple[dict[str, tuple[int, str]], dict[str, tuple[int, str]]]:
    """The regular files of the index and of HEAD (none before the first commit)."""
    index = _tracked_blobs(run_git(["ls-files", "-s", "-z"], git.toplevel), index=True)
    try:
        head = _tracked_blobs(run_git(["ls-tree", "-r", "-z", "--full-tree", "HEAD"], git.toplevel), index=False)
    except GitError:
        head = {}
    return index, head


def _git_restorable(paths: list[Path], git: _Git | None) -> dict[Path, str]:
    """The paths git can give back byte for byte: regular files whose bytes, as they are (no filter applied),
    are the blob of the index, and that blob is HEAD's, so the object store keeps it (a staged change alone
    is lost to `git gc`; a file under a clean/smudge filter such as git-lfs, or an end-of-line conversion, has
    other bytes than its blob and goes to the trash)."""
    if git is None or not paths:
        return {}
    from llm_fixtures.diffing.gitreading import blob_id  # here: hashlib (OpenSSL) only for a delete

    try:
        index, head = _committed_blobs(git)
    except GitError:
        return {}
    restorable: dict[Path, str] = {}
    for path in paths:
        if path.is_symlink() or not is_inside(path, git.toplevel):
            continue
        relative = path.relative_to(git.toplevel).as_posix()
        entry = index.get(relative)
        if entry is None or head.get(relative, (0, ""))[1] != entry[1]:
            continue
        try:
            data = read_regular(path)
        except OSError:
            continue
        if blob_id(data, git.object_format) == entry[1]:
            restorable[path] = entry[1]
    return restorable


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
    the first file goes. Raises UnsafeDelete (before touching anything) for a path outside `project_root`, and
    BadTrash for a trash folder that leads out of the git dir."""
    root = Path(os.path.realpath(project_root))
    checked = _checked(paths, root)
    trash, git = _trash_of(root)
    restorable = _git_restorable(checked, git)
    entries: list[TrashEntry] = []
    for path in checked:
        relative = path.relative_to(root).as_posix()
        mode = path.lstat().st_mode & 0o777
        if path in restorable:
            entries.append(TrashEntry(relative, "git", restorable[path], mode))
        else:
            entries.append(TrashEntry(relative, "trash", None, mode))
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
    return sorted(child for child in trash.iterdir() if os.path.lexists(child / MANIFEST))


def _read_manifest(folder: Path) -> tuple[Path, list[TrashEntry]]:
    """The project root and entries a batch manifest names, each checked for its type (the manifest is a file
    on disk like any other: anything can be in it)."""
    manifest = folder / MANIFEST
    try:
        document: Any = json.loads(read_regular(manifest, follow_link=False))
        root = Path(document["project_root"])
        items = document["entries"]
        if not isinstance(document["project_root"], str) or not isinstance(items, list):
            raise TypeError("project_root must be a string and entries a list")
        entries = [_entry(item) for item in items]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise BadTrash(f"{manifest}: unreadable trash manifest: {exc}; nothing restored") from None
    return root, entries


_BLOB = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _entry(item: Any) -> TrashEntry:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise TypeError(f"an entry must be an object with a path, not {item!r:.80}")
    path, how, blob = item["path"], item.get("how"), item.get("blob")
    if how not in ("git", "trash"):
        raise ValueError(f"bad entry {path!r}: how must be git or trash")
    if how == "git" and not (isinstance(blob, str) and _BLOB.fullmatch(blob)):
        raise ValueError(f"bad entry {path!r}: blob must be a git object id")
    if PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
        raise ValueError(f"bad entry {path!r}: leads outside the project")
    mode = int(str(item.get("mode", "0o644")), 8)
    if not 0 <= mode <= 0o7777:
        raise ValueError(f"bad entry {path!r}: mode {mode:o} is not a file mode")
    # Only permission bits: a manifest never makes a file set-user-id.
    return TrashEntry(path, how, blob if how == "git" else None, mode & 0o777)


def _targets(folder: Path, root: Path, entries: list[TrashEntry]) -> list[Path]:
    """Where each entry goes back: inside the project through every link, never into the git dir, each once.
    BadTrash naming the first that is not, before anything is written."""
    manifest = folder / MANIFEST
    targets: dict[Path, None] = {}
    for entry in entries:
        bad = f"{manifest}: bad entry {entry.path!r}"
        try:
            target = confined(entry.path, root, what=str(manifest))
        except OutsideProject:
            raise BadTrash(f"{bad}: leads outside the project {root}; nothing restored") from None
        if ".git" in PurePosixPath(entry.path).parts or target in targets:
            raise BadTrash(f"{bad}: not a place to restore to; nothing restored")
        targets[target] = None
    return list(targets)


def _trashed_source(folder: Path, index: int, entry: TrashEntry) -> Path | None:
    """The file a trash entry moved into the batch (None when it is not there), which must be the file or
    symbolic link that was moved there, in the batch's own `files` folder."""
    source = folder / _trashed_name(index, entry)
    files = source.parent
    try:
        info = os.lstat(source)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise BadTrash(f"{source}: {exc.strerror or exc}; nothing restored") from None
    if files.is_symlink() or not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        raise BadTrash(f"{source}: not a file this tool moved there; nothing restored")
    return source


def _same_bytes(target: Path, wanted: bytes | None) -> bool:
    if wanted is None:
        return False
    try:
        return read_regular(target, follow_link=False) == wanted
    except OSError:
        return False


def _blobs(blobs: list[str], cwd: Path) -> dict[str, bytes]:
    """The content of git blobs, read in one `git cat-file --batch`."""
    if not blobs:
        return {}
    try:
        out = run_git(["cat-file", "--batch"], cwd, stdin="".join(f"{blob}\n" for blob in blobs).encode())
    except GitError as exc:
        raise FixtureError(f"{cwd}: git cat-file failed ({exc}); cannot restore deleted files") from None
    contents: dict[str, bytes] = {}
    position = 0
    for blob in blobs:
        end = out.find(b"\n", position)
        header = out[position:end].split() if end != -1 else []
        if len(header) != 3 or header[1] != b"blob" or not header[2].isdigit():
            raise FixtureError(f"git no longer has blob {blob}; restore it from your history instead")
        size = int(header[2])
        contents[blob] = out[end + 1 : end + 1 + size]
        position = end + 1 + size + 1
    return contents


def restore_last(project_root: Path) -> list[Path]:
    """Put the files of the last trash batch back and forget the batch; the restored paths. All or nothing: a
    file that exists again with other content raises RestoreConflict, and a batch that cannot be trusted (a
    manifest naming a path outside the project or in the git dir, a folder that is a link) raises BadTrash,
    before anything is written. [] when there is no batch."""
    root = Path(os.path.realpath(project_root))
    trash, git = _trash_of(root)
    batches = _batches(trash)
    if not batches:
        return []
    folder = batches[-1]
    if folder.is_symlink():
        raise BadTrash(f"{folder}: a symbolic link, not a batch this tool made; nothing restored")
    recorded, entries = _read_manifest(folder)
    if Path(os.path.realpath(recorded)) != root:
        raise FixtureError(
            f"{folder / MANIFEST}: the last batch was removed from {recorded}, not {project_root}; run --restore there"
        )
    targets = _targets(folder, root, entries)
    sources = [
        _trashed_source(folder, index, entry) if entry.how == "trash" else None for index, entry in enumerate(entries)
    ]
    contents = _blobs(
        sorted({entry.blob for entry in entries if entry.how == "git" and entry.blob}),
        git.toplevel if git is not None else root,
    )
    plan: list[tuple[Path, TrashEntry, Path | None, bytes | None]] = []
    conflicts: list[str] = []
    for target, entry, source in zip(targets, entries, sources, strict=True):
        data = contents.get(entry.blob or "") if entry.how == "git" else None
        if entry.how == "trash" and source is None:
            if os.path.lexists(target):
                continue  # never moved (the delete stopped early)
            raise BadTrash(f"{folder}: the trashed copy of {entry.path} is gone; nothing restored")
        if os.path.lexists(target):
            wanted = data if source is None else _source_bytes(source)
            if _same_bytes(target, wanted):
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
            write_atomic(target, data, mode=entry.mode)
        else:
            raise FixtureError(f"{target}: its git blob {entry.blob} is gone; restore it from your history")
        restored.append(target)
    shutil.rmtree(folder, ignore_errors=True)
    return sorted(restored)


def _source_bytes(source: Path) -> bytes | None:
    """The bytes of a trashed regular file (a trashed link is never the same as what is there now)."""
    if source.is_symlink():
        return None
    try:
        return read_regular(source, follow_link=False)
    except OSError:
        return None
