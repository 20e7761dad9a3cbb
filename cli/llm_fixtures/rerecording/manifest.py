"""The MANIFEST of a record run's backup, the one file that makes the backup restorable by a later process: where
each copy goes back, its SHA-256, mode and times, the watched folders and what they held before the run.

Written twice, atomically: `copying` before the first copy, `ready` once every copy is on disk (fsynced). The
tests start only after `ready`, so a backup still `copying` belongs to a run that never started.

A MANIFEST is read back as hostile data: every field is checked for its type, and every path it names must lie
inside the project through every link (`safepaths.confined_absolute`), or nothing is restored."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from llm_fixtures.errors import FixtureError
from llm_fixtures.safepaths import OutsideProject, confined_absolute, read_regular
from llm_fixtures.store import write_atomic

NAME = "MANIFEST"
FORMAT = 2
# Format 1 (before the run's tests were noted): every file is read as in doubt.
READABLE = (1, 2)
# A MANIFEST lists at most a few thousand files; anything far larger is not one.
MAX_MANIFEST = 256 * 1024 * 1024
COPY_NAME = re.compile(r"\d{5}\.bak")
State = Literal["copying", "ready"]


class DamagedBackup(FixtureError):
    """A backup that cannot be put back as it is (one line: what is wrong); nothing was touched."""


@dataclass(frozen=True, slots=True)
class Copy:
    """One backed-up file: the copy's name in the backup folder, and what the file was."""

    name: str
    sha256: str
    mode: int
    atime_ns: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the MANIFEST says. `before`: size, mtime and inode of each JSON file in `watched` before the run."""

    state: State
    created: str
    pid: int
    root: Path
    watched: list[Path]
    files: dict[Path, Copy]
    before: dict[Path, tuple[int, int, int]]
    tests: list[str] | None = None
    selected: list[Path] | None = None
    started_ns: int = 0


def write(folder: Path, manifest: Manifest) -> None:
    """Write the MANIFEST atomically, then make its name durable (the folder is fsynced too)."""
    document = {
        "format": FORMAT,
        "state": manifest.state,
        "created": manifest.created,
        "pid": manifest.pid,
        "root": str(manifest.root),
        "watched": [str(path) for path in manifest.watched],
        "files": {
            str(path): {
                "copy": copy.name,
                "sha256": copy.sha256,
                "mode": copy.mode,
                "atime_ns": copy.atime_ns,
                "mtime_ns": copy.mtime_ns,
            }
            for path, copy in manifest.files.items()
        },
        "before": {str(path): list(stamp) for path, stamp in manifest.before.items()},
        "tests": manifest.tests,
        "selected": [str(path) for path in manifest.selected or []],
        "started_ns": manifest.started_ns,
    }
    write_atomic(folder / NAME, orjson.dumps(document, option=orjson.OPT_INDENT_2))
    sync_folder(folder)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so the names just written in it survive a power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _int(value: Any, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{what} is not a number")


def _path(value: Any, what: str, root: Path | None) -> Path:
    """An absolute path of the MANIFEST, resolved and inside `root` through every link (when `root` is given)."""
    if not isinstance(value, str) or not value or "\x00" in value or not Path(value).is_absolute():
        raise ValueError(f"{what} {value!r} is not an absolute path")
    if ".." in Path(value).parts:
        raise ValueError(f"{what} {value!r} climbs with '..'")
    if root is None:
        return Path(value)
    try:
        return confined_absolute(Path(value), root, what=what)
    except OutsideProject:
        raise ValueError(f"{what} {value!r} leads outside the project {root}") from None


def _copy(value: Any, path: str) -> Copy:
    if not isinstance(value, dict):
        raise ValueError(f"the entry of {path} is not an object")
    name, digest = value.get("copy"), value.get("sha256")
    if not isinstance(name, str) or not COPY_NAME.fullmatch(name):
        raise ValueError(f"the copy of {path} has a bad name {name!r}")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ValueError(f"the copy of {path} has no SHA-256")
    return Copy(
        name,
        digest,
        _int(value.get("mode"), f"the mode of {path}"),
        _int(value.get("atime_ns"), f"the access time of {path}"),
        _int(value.get("mtime_ns"), f"the modification time of {path}"),
    )


def read(folder: Path, root: Path | None = None) -> Manifest | None:
    """The MANIFEST of the backup in `folder`, checked field by field, every path confined to `root` (the project
    it is restored into; None: only checked for form, as when naming its pid); None when there is none.
    DamagedBackup (one line) when it does not parse, is not of this format, or names something it may not."""
    try:
        data = read_regular(folder / NAME, MAX_MANIFEST)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DamagedBackup(f"{folder / NAME}: unreadable: {exc.strerror or exc}") from None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise DamagedBackup(f"{folder / NAME}: not JSON (damaged)") from None
    if not isinstance(document, dict):
        raise DamagedBackup(f"{folder / NAME}: not a backup manifest")
    if "format" not in document and isinstance(document.get("files"), dict):
        raise DamagedBackup(
            f"{folder / NAME}: written by an older fixtures, without what a restore needs; copy the files back "
            "by hand as it lists them"
        )
    version = document.get("format")
    if isinstance(version, bool) or version not in READABLE:
        raise DamagedBackup(f"{folder / NAME}: format {version!r}, not {FORMAT}")
    try:
        return _checked(document, root)
    except ValueError as exc:
        raise DamagedBackup(f"{folder / NAME}: {exc}") from None


def _checked(document: dict[str, Any], root: Path | None) -> Manifest:
    state = document.get("state")
    if state not in ("copying", "ready"):
        raise ValueError(f"state {state!r} is unknown")
    created = document.get("created")
    if not isinstance(created, str):
        raise ValueError("no creation time")
    files, before, watched = document.get("files"), document.get("before"), document.get("watched")
    if not isinstance(files, dict) or not isinstance(before, dict) or not isinstance(watched, list):
        raise ValueError("files, before or watched is missing")
    stamps: dict[Path, tuple[int, int, int]] = {}
    for key, stamp in before.items():
        if not isinstance(stamp, list) or len(stamp) != 3:
            raise ValueError(f"the stamp of {key} is not [size, mtime, inode]")
        size, mtime, inode = (_int(part, f"the stamp of {key}") for part in stamp)
        stamps[_path(key, "a watched file", root)] = (size, mtime, inode)
    tests = document.get("tests")
    if tests is not None and (not isinstance(tests, list) or not all(isinstance(t, str) for t in tests)):
        raise ValueError("tests is not a list of test ids")
    selected = document.get("selected")
    if selected is not None and not isinstance(selected, list):
        raise ValueError("selected is not a list of paths")
    started = document.get("started_ns", 0)
    return Manifest(
        state=state,
        created=created,
        pid=_int(document.get("pid"), "the pid"),
        root=_path(document.get("root"), "the project root", None),
        watched=[_path(item, "a watched folder", root) for item in watched],
        files={_path(key, "a backed-up file", root): _copy(value, key) for key, value in files.items()},
        before=stamps,
        tests=tests,
        selected=[_path(item, "a selected file", root) for item in selected or []],
        started_ns=_int(started, "the start time"),
    )
