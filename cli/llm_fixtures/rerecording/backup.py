"""The backup of a record run: copy the recordings of the selected tests aside and note what every watched folder
held before the run, then put it all back byte for byte when the run fails, or forget it when it succeeds.

The backup is made to outlive the process that took it (SIGKILL, power loss): every copy is fsynced and listed
with its SHA-256 in a MANIFEST (rerecording/manifest.py) written atomically before the tests start, and a lock
(rerecording/runlock.py) says whether its run is still going. rerecording/leftovers.py puts a dead run's back."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from llm_fixtures.discovery import CASSETTE_SUFFIXES
from llm_fixtures.errors import FixtureError, WriteError
from llm_fixtures.rerecording import manifest, runlock
from llm_fixtures.rerecording.manifest import Copy, DamagedBackup, Manifest
from llm_fixtures.rerecording.statedir import state_dir
from llm_fixtures.store import write_atomic

Stamp = tuple[int, int, int]
PREFIX = "backup-"


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def snapshot(folders: Iterable[Path]) -> dict[Path, Stamp]:
    """Size, mtime and inode of every JSON file (and VCR cassette) under `folders` (missing folders are empty)."""
    found: dict[Path, Stamp] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for current, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith((".json", *CASSETTE_SUFFIXES)) and not name.startswith("."):
                    path = Path(current, name)
                    stamp = _stamp(path)
                    if stamp is not None:
                        found[path] = stamp
    return found


@dataclass
class Backup:
    """Copies of the recordings of the selected tests (flat, numbered, so no `recordings` folder appears in the
    backup), what every watched folder held before the run, and where the copies are. `lock`: the descriptor that
    holds the run's lock while this process runs it (None for a backup read back from its MANIFEST)."""

    folder: Path
    copies: dict[Path, Path] = field(default_factory=dict)
    times: dict[Path, tuple[int, int]] = field(default_factory=dict)
    before: dict[Path, Stamp] = field(default_factory=dict)
    watched: list[Path] = field(default_factory=list)
    digests: dict[Path, str] = field(default_factory=dict)
    modes: dict[Path, int] = field(default_factory=dict)
    created: str = ""
    pid: int = 0
    lock: int | None = None


def _manifest(backup: Backup, root: Path, state: manifest.State) -> Manifest:
    files = {
        path: Copy(copy.name, backup.digests[path], backup.modes[path], *backup.times[path])
        for path, copy in backup.copies.items()
    }
    return Manifest(state, backup.created, backup.pid, root, backup.watched, files, backup.before)


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def take_backup(root: Path, recordings: Sequence[Path], watched: Sequence[Path]) -> Backup:
    """Copy every recording of the selected tests aside before anything runs, under this process's lock. The
    MANIFEST says `ready` only once every copy is on disk; a backup that fails half-way is removed (nothing ran)."""
    folder = state_dir(root) / f"{PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    folder.mkdir(parents=True)
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    backup = Backup(folder=folder, watched=sorted(set(watched)), created=created, pid=os.getpid())
    try:
        backup.lock = runlock.hold(folder)
    except FixtureError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        manifest.write(folder, _manifest(backup, root, "copying"))
        for index, path in enumerate(sorted(set(recordings)), 1):
            copy = folder / f"{index:05d}.bak"
            data = path.read_bytes()
            stat = path.stat()
            _write_durably(copy, data)
            backup.copies[path] = copy
            backup.times[path] = (stat.st_atime_ns, stat.st_mtime_ns)
            backup.digests[path] = hashlib.sha256(data).hexdigest()
            backup.modes[path] = stat.st_mode & 0o7777
        backup.before = snapshot(backup.watched)
        manifest.write(folder, _manifest(backup, root, "ready"))
    except OSError as exc:
        discard(backup)
        raise WriteError(f"{exc.filename or folder}: cannot back up: {exc.strerror or exc}; nothing was run") from None
    except BaseException:
        discard(backup)
        raise
    return backup


def from_manifest(folder: Path, found: Manifest) -> Backup:
    """The backup described by a `ready` MANIFEST, once every copy is checked against its SHA-256; DamagedBackup
    (one line) naming the first copy that is missing or altered."""
    backup = Backup(folder=folder, watched=list(found.watched), created=found.created, pid=found.pid)
    backup.before = dict(found.before)
    for path, entry in sorted(found.files.items()):
        copy = folder / entry.name
        try:
            data = copy.read_bytes()
        except OSError as exc:
            raise DamagedBackup(f"{copy}: the copy of {path} is {exc.strerror or 'unreadable'}") from None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise DamagedBackup(f"{copy}: the copy of {path} does not match its SHA-256 (altered or truncated)")
        backup.copies[path] = copy
        backup.times[path] = (entry.atime_ns, entry.mtime_ns)
        backup.digests[path] = entry.sha256
        backup.modes[path] = entry.mode
    return backup


class Restored(BaseModel):
    restored: list[str]
    removed: list[str]
    not_restorable: list[str]


def displaced_by(backup: Backup) -> tuple[list[Path], list[Path]]:
    """What putting the backup back would overwrite or remove: the backed-up files whose bytes differ now, and
    the files that appeared in the watched folders since the backup was taken."""
    changed = [
        path
        for path, copy in sorted(backup.copies.items())
        if path.is_file() and path.read_bytes() != copy.read_bytes()
    ]
    appeared = sorted(set(snapshot(backup.watched)) - set(backup.before) - set(backup.copies))
    return changed, appeared


def restore(backup: Backup, root: Path) -> Restored:
    """Put every backed-up file back byte for byte (with its mode and modification time) and remove every file
    the run created. Files of other tests that the run changed were not backed up: they are named, not touched."""
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
        mode = backup.modes.get(path)
        if mode is not None and path.stat().st_mode & 0o7777 != mode:
            path.chmod(mode)
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
    """Remove the backup, then let go of its lock (so no one ever sees it unlocked and takes it for a leftover)."""
    shutil.rmtree(backup.folder, ignore_errors=True)
    runlock.release(backup.lock)
    backup.lock = None


def relative(path: Path, root: Path) -> str:
    """`path` relative to the project root when it is inside it, else as it is."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
