"""The lock that tells the backup of a record run still going from one left over by a run that died: a `LOCK`
file in the backup folder, locked (flock) by the `fixtures` process that took the backup and inherited by the test
command it starts. The kernel lets go when every process holding it has ended, SIGKILL and power loss included."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from llm_fixtures.errors import FixtureError

LOCK = "LOCK"


def _try_lock(folder: Path) -> int | None:
    """Open (making it if need be) the LOCK in `folder` and lock it without waiting: the descriptor, or None when
    another process holds it. OSError propagates (FileNotFoundError: the folder is gone)."""
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:
        os.close(fd)
        raise
    return fd


def hold(folder: Path) -> int:
    """Lock the backup in `folder` for this process (and the processes it hands the descriptor to); the
    descriptor. FixtureError when the folder is gone or another process holds it (a `--restore` racing a start)."""
    try:
        fd = _try_lock(folder)
    except OSError as exc:
        raise FixtureError(f"{folder}: cannot lock the backup: {exc.strerror or exc}; nothing was run") from None
    if fd is None:
        raise FixtureError(f"{folder}: another fixtures process holds this backup; nothing was run")
    return fd


def probe(folder: Path) -> int | None:
    """Take the lock of the backup in `folder` if no live process holds it: the descriptor (keep it while
    working on the backup, then `release` it), or None when a run (or the tests it started) still holds it.
    FileNotFoundError when the folder has just gone (its run finished)."""
    try:
        return _try_lock(folder)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise FixtureError(f"{folder}: cannot open its lock: {exc.strerror or exc}; nothing was touched") from None


def release(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
