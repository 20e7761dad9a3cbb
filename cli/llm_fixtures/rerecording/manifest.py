"""The MANIFEST of a record run's backup, the one file that makes the backup restorable by a later process: where
each copy goes back, its SHA-256, mode and times, the watched folders and what they held before the run.

Written twice, atomically: `copying` before the first copy, `ready` once every copy is on disk (fsynced). The
tests start only after `ready`, so a backup still `copying` belongs to a run that never started."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from llm_fixtures.errors import FixtureError
from llm_fixtures.store import write_atomic

NAME = "MANIFEST"
FORMAT = 1
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


def _path(value: Any, what: str) -> Path:
    if isinstance(value, str) and Path(value).is_absolute() and ".." not in Path(value).parts:
        return Path(value)
    raise ValueError(f"{what} {value!r} is not an absolute path")


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


def read(folder: Path) -> Manifest | None:
    """The MANIFEST of the backup in `folder`, checked field by field; None when there is none. DamagedBackup
    (one line) when it does not parse, is not of this format, or names something it may not."""
    try:
        data = (folder / NAME).read_bytes()
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
    if document.get("format") != FORMAT:
        raise DamagedBackup(f"{folder / NAME}: format {document.get('format')!r}, not {FORMAT}")
    try:
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
            stamps[_path(key, "a watched file")] = (size, mtime, inode)
        return Manifest(
            state=state,
            created=created,
            pid=_int(document.get("pid"), "the pid"),
            root=_path(document.get("root"), "the project root"),
            watched=[_path(item, "a watched folder") for item in watched],
            files={_path(key, "a backed-up file"): _copy(value, key) for key, value in files.items()},
            before=stamps,
        )
    except ValueError as exc:
        raise DamagedBackup(f"{folder / NAME}: {exc}") from None
