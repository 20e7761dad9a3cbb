"""The backup of a record run: copy aside every recording the run may write (each file of every `recordings` folder
its tests can reach) and note what every watched folder held, then put it all back byte for byte when the run
fails, or forget it when it succeeds.

Putting back never loses a file and never touches another process's: each file the run changed or made is
attributed by the test id it holds. A file of one of the run's tests, or of none (a model list written at stack
start-up, a file that does not parse: in doubt), is the run's: its current version goes to the trash (as `prune
--delete` removes files) and the backed-up one comes back. A file that names another test was written by someone
else during the run, and is left as it is. Nothing is ever unlinked.

The backup is made to outlive the process that took it (SIGKILL, power loss): every copy is fsynced and listed
with its SHA-256 in a MANIFEST (rerecording/manifest.py) written atomically before the tests start, and a lock
(rerecording/runlock.py) says whether its run is still going. rerecording/leftovers.py puts a dead run's back."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel

from llm_fixtures.discovery import CASSETTE_SUFFIXES
from llm_fixtures.errors import FixtureError, WriteError
from llm_fixtures.nodeids import selecting
from llm_fixtures.rerecording import manifest, runlock
from llm_fixtures.rerecording.manifest import Copy, DamagedBackup, Manifest
from llm_fixtures.rerecording.statedir import state_dir, tidy_state_dir
from llm_fixtures.safepaths import NotRegularFile, read_regular
from llm_fixtures.store import write_atomic

Stamp = tuple[int, int, int]
PREFIX = "backup-"
# A file that appeared with a modification time this much before the run started was moved in, not written by it.
_CLOCK_SLACK_NS = 2_000_000_000
Owner = Literal["run", "doubt", "other"]


def _stamp(path: Path) -> Stamp | None:
    """Size, mtime and inode of a regular file (not followed through a link); None for anything else."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def _mode(path: Path) -> int | None:
    try:
        return path.lstat().st_mode & 0o7777
    except OSError:
        return None


def snapshot(folders: Iterable[Path]) -> dict[Path, Stamp]:
    """Size, mtime and inode of every JSON regular file (and VCR cassette) under `folders` (missing folders are
    empty; links to folders are not followed, links to files are not recordings this backs up)."""
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
    """Copies of every file the run may write (flat, numbered, so no `recordings` folder appears in the backup),
    what every watched folder held before the run, and where the copies are. `selected`: the recordings of the
    selected tests; `tests`: the node ids the run records (None for a backup of an older fixtures: every file
    in doubt); `started_ns`: when the backup was taken. `lock`: the descriptor that holds the run's lock while
    this process runs it (None for a backup read back from its MANIFEST)."""

    folder: Path
    copies: dict[Path, Path] = field(default_factory=dict)
    times: dict[Path, tuple[int, int]] = field(default_factory=dict)
    before: dict[Path, Stamp] = field(default_factory=dict)
    watched: list[Path] = field(default_factory=list)
    digests: dict[Path, str] = field(default_factory=dict)
    modes: dict[Path, int] = field(default_factory=dict)
    selected: set[Path] = field(default_factory=set)
    tests: frozenset[str] | None = None
    started_ns: int = 0
    created: str = ""
    pid: int = 0
    lock: int | None = None


def _manifest(backup: Backup, root: Path, state: manifest.State) -> Manifest:
    files = {
        path: Copy(copy.name, backup.digests[path], backup.modes[path], *backup.times[path])
        for path, copy in backup.copies.items()
    }
    return Manifest(
        state,
        backup.created,
        backup.pid,
        root,
        backup.watched,
        files,
        backup.before,
        tests=None if backup.tests is None else sorted(backup.tests),
        selected=sorted(backup.selected),
        started_ns=backup.started_ns,
    )


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def take_backup(
    root: Path,
    recordings: Sequence[Path],
    watched: Sequence[Path],
    *,
    reach: Sequence[Path] = (),
    tests: Iterable[str] | None = None,
) -> Backup:
    """Copy aside, before anything runs and under this process's lock, the `recordings` of the selected tests and
    every JSON file in the `reach` folders (where the run's tests write); note what `watched` and `reach` hold.
    The MANIFEST says `ready` only once every copy is on disk; a backup that fails half-way is removed (nothing
    ran)."""
    folder = state_dir(root) / f"{PREFIX}{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    folder.mkdir(parents=True)
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    backup = Backup(
        folder=folder,
        watched=sorted({*watched, *reach}),
        created=created,
        pid=os.getpid(),
        selected=set(recordings),
        tests=None if tests is None else frozenset(tests),
        started_ns=time.time_ns(),
    )
    try:
        backup.lock = runlock.hold(folder)
    except FixtureError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        manifest.write(folder, _manifest(backup, root, "copying"))
        backup.before = snapshot(backup.watched)
        reached = snapshot(reach)
        for index, path in enumerate(sorted({*recordings, *reached}), 1):
            copy = folder / f"{index:05d}.bak"
            data = read_regular(path)
            stat = path.stat()
            _write_durably(copy, data)
            backup.copies[path] = copy
            backup.times[path] = (stat.st_atime_ns, stat.st_mtime_ns)
            backup.digests[path] = hashlib.sha256(data).hexdigest()
            backup.modes[path] = stat.st_mode & 0o7777
        manifest.write(folder, _manifest(backup, root, "ready"))
    except OSError as exc:
        discard(backup, root)
        raise WriteError(f"{exc.filename or folder}: cannot back up: {exc.strerror or exc}; nothing was run") from None
    except BaseException:
        discard(backup, root)
        raise
    return backup


def from_manifest(folder: Path, found: Manifest) -> Backup:
    """The backup described by a `ready` MANIFEST (its paths already confined to the project), once every copy
    is checked against its SHA-256; DamagedBackup (one line) naming the first copy that is missing or altered."""
    backup = Backup(
        folder=folder,
        watched=list(found.watched),
        created=found.created,
        pid=found.pid,
        selected=set(found.selected or ()),
        tests=None if found.tests is None else frozenset(found.tests),
        started_ns=found.started_ns,
    )
    backup.before = dict(found.before)
    for path, entry in sorted(found.files.items()):
        copy = folder / entry.name
        try:
            data = read_regular(copy)
        except OSError as exc:
            raise DamagedBackup(f"{copy}: the copy of {path} is {exc.strerror or exc or 'unreadable'}") from None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise DamagedBackup(f"{copy}: the copy of {path} does not match its SHA-256 (altered or truncated)")
        backup.copies[path] = copy
        backup.times[path] = (entry.atime_ns, entry.mtime_ns)
        backup.digests[path] = entry.sha256
        backup.modes[path] = entry.mode
    return backup


# --- who wrote a file ------------------------------------------------------------------------------------


def test_id_in(data: bytes) -> str | None:
    """The test id a recording names (top level, else in its request), or None."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    request = raw.get("request")
    test_id = raw.get("test_id", request.get("test_id") if isinstance(request, dict) else None)
    return test_id if isinstance(test_id, str) else None


def owner(path: Path, backup: Backup, appeared: bool) -> Owner:
    """Who wrote `path` during the run: `run` (it names one of the run's tests), `other` (it names another test,
    or appeared with a modification time from before the run: moved in), or `doubt` (no test id, not JSON,
    unreadable, or a backup that does not say which tests ran). A YAML cassette names its test by its file name."""
    try:
        if appeared and path.lstat().st_mtime_ns < backup.started_ns - _CLOCK_SLACK_NS:
            return "other"
        data = read_regular(path)
    except (OSError, NotRegularFile):
        return "doubt"
    if backup.tests is not None and path.name.endswith(CASSETTE_SUFFIXES):
        from llm_fixtures.cassettes.naming import owner_of  # a cassette names its test by its file name

        return owner_of(path, backup.tests)
    test_id = test_id_in(data)
    if backup.tests is None or test_id is None:
        return "doubt"
    # A test selected by a node id above it (a test not recorded yet, given without its parameters) is the run's.
    return "run" if any(node in backup.tests for node in selecting(test_id)) else "other"


# --- putting back ----------------------------------------------------------------------------------------


class Restored(BaseModel):
    """What putting a backup back did. `restored`: files written back (the others had not changed); `replaced`:
    those of them whose version from the run went to the trash; `new`: files the run made, moved to the trash;
    `kept`: files another process wrote during the run, left as they are; `not_restorable`: files the run
    changed that were not backed up (outside every folder its tests can reach), named and not touched."""

    restored: list[str] = []
    replaced: list[str] = []
    new: list[str] = []
    kept: list[str] = []
    not_restorable: list[str] = []


@dataclass(slots=True)
class _Decision:
    write: list[Path] = field(default_factory=list)
    displaced: list[Path] = field(default_factory=list)
    appeared: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    touched: list[Path] = field(default_factory=list)
    not_restorable: list[Path] = field(default_factory=list)


def _current(path: Path) -> bytes | None:
    try:
        return read_regular(path)
    except (OSError, NotRegularFile):
        return None


def _decide(backup: Backup) -> _Decision:
    decision = _Decision()
    after = snapshot(backup.watched)
    for path, copy in sorted(backup.copies.items()):
        stamp = after.get(path)
        if stamp is not None and stamp == backup.before.get(path) and _mode(path) == backup.modes.get(path):
            continue  # not touched since the backup
        current = _current(path)
        if current is not None and current == read_regular(copy):
            decision.touched.append(path)  # written again, same bytes: only its mode and times go back
        elif current is None and path.exists():
            decision.kept.append(path)  # no longer a regular file: whatever it is, it is not ours to replace
        elif current is None:
            decision.write.append(path)  # deleted during the run: nothing to displace
        elif owner(path, backup, appeared=False) == "other":
            decision.kept.append(path)
        else:
            decision.displaced.append(path)
            decision.write.append(path)
    for path in sorted(set(after) - set(backup.before) - set(backup.copies)):
        if owner(path, backup, appeared=True) == "other":
            decision.kept.append(path)
        else:
            decision.appeared.append(path)
    decision.not_restorable = [
        path
        for path, stamp in sorted(after.items())
        if path in backup.before and path not in backup.copies and stamp != backup.before[path]
    ]
    return decision


def displaced_by(backup: Backup) -> tuple[list[Path], list[Path]]:
    """What putting the backup back would move to the trash: the run's versions of backed-up files, and the
    files that appeared since the backup was taken (another process's are left out)."""
    decision = _decide(backup)
    return decision.displaced, decision.appeared


def restore(backup: Backup, root: Path) -> Restored:
    """Put every backed-up file the run changed back byte for byte (with its mode and times), the run's version
    and every file it made moved to the trash first (the new files in the last batch, so that `fixtures prune
    --restore` brings them back); another process's files are left as they are."""
    from llm_fixtures.trashing import remove_reversibly

    decision = _decide(backup)
    for batch in (decision.displaced, decision.appeared):
        if batch:
            remove_reversibly(batch, root)
    for path in decision.write:
        write_atomic(path, read_regular(backup.copies[path]))
    for path in [*decision.write, *decision.touched]:
        mode = backup.modes.get(path)
        if mode is not None and path.stat().st_mode & 0o7777 != mode:
            path.chmod(mode)
        atime, mtime = backup.times[path]
        os.utime(path, ns=(atime, mtime))
    return Restored(
        restored=[relative(path, root) for path in decision.write],
        replaced=[relative(path, root) for path in decision.displaced],
        new=[relative(path, root) for path in decision.appeared],
        kept=[relative(path, root) for path in decision.kept],
        not_restorable=[relative(path, root) for path in decision.not_restorable],
    )


def discard(backup: Backup, root: Path | None = None) -> None:
    """Remove the backup, then let go of its lock (so no one ever sees it unlocked and takes it for a leftover);
    with `root`, the state folder too when nothing else is left in it."""
    shutil.rmtree(backup.folder, ignore_errors=True)
    runlock.release(backup.lock)
    backup.lock = None
    if root is not None:
        tidy_state_dir(root)


def relative(path: Path, root: Path) -> str:
    """`path` relative to the project root when it is inside it, else as it is."""
    try:
        return str(path.relative_to(root))
    except ValueError:
        try:
            return str(Path(os.path.realpath(path)).relative_to(os.path.realpath(root)))
        except ValueError:
            return str(path)
