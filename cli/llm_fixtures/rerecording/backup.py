"""The backup of a record run: copy the recordings of the selected tests aside and note what every watched folder
held before the run, then put it all back byte for byte when the run fails, or forget it when it succeeds."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from pydantic import BaseModel

from llm_fixtures.rerecording.statedir import state_dir
from llm_fixtures.store import write_atomic

Stamp = tuple[int, int, int]


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def snapshot(folders: Iterable[Path]) -> dict[Path, Stamp]:
    """Size, mtime and inode of every JSON file under `folders` (missing folders are empty)."""
    found: dict[Path, Stamp] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for current, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith(".json") and not name.startswith("."):
                    path = Path(current, name)
                    stamp = _stamp(path)
                    if stamp is not None:
                        found[path] = stamp
    return found


@dataclass
class Backup:
    """Copies of the recordings of the selected tests (flat, numbered, so no `recordings` folder appears in the
    backup), what every watched folder held before the run, and where the copies are."""

    folder: Path
    copies: dict[Path, Path] = field(default_factory=dict)
    times: dict[Path, tuple[int, int]] = field(default_factory=dict)
    before: dict[Path, Stamp] = field(default_factory=dict)
    watched: list[Path] = field(default_factory=list)


def take_backup(root: Path, recordings: Sequence[Path], watched: Sequence[Path]) -> Backup:
    """Copy every recording of the selected tests aside (with a manifest) before anything runs."""
    folder = state_dir(root) / f"backup-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    folder.mkdir(parents=True)
    backup = Backup(folder=folder, watched=sorted(set(watched)))
    for index, path in enumerate(sorted(set(recordings)), 1):
        copy = folder / f"{index:05d}.bak"
        shutil.copyfile(path, copy)
        stat = path.stat()
        backup.copies[path] = copy
        backup.times[path] = (stat.st_atime_ns, stat.st_mtime_ns)
    manifest = {"root": str(root), "files": {str(p): c.name for p, c in backup.copies.items()}}
    (folder / "MANIFEST").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    backup.before = snapshot(backup.watched)
    return backup


class Restored(BaseModel):
    restored: list[str]
    removed: list[str]
    not_restorable: list[str]


def restore(backup: Backup, root: Path) -> Restored:
    """Put every backed-up file back byte for byte (with its modification time) and remove every file the run
    created. Files of other tests that the run changed were not backed up: they are named, not touched."""
    restored: list[str] = []
    for path, copy in sorted(backup.copies.items()):
        data = copy.read_bytes()
        try:
            current = path.read_bytes()
        except OSError:
            current = None
        if current != data:
            write_atomic(path, data)
            restored.append(relative(path, root))
        atime, mtime = backup.times[path]
        os.utime(path, ns=(atime, mtime))
    after = snapshot(backup.watched)
    removed: list[str] = []
    for path in sorted(set(after) - set(backup.before)):
        path.unlink(missing_ok=True)
        removed.append(relative(path, root))
    not_restorable = [
        relative(path, root)
        for path, stamp in sorted(after.items())
        if path in backup.before and path not in backup.copies and stamp != backup.before[path]
    ]
    return Restored(restored=restored, removed=removed, not_restorable=not_restorable)


def discard(backup: Backup) -> None:
    shutil.rmtree(backup.folder, ignore_errors=True)


def relative(path: Path, root: Path) -> str:
    """`path` relative to the project root when it is inside it, else as it is."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
