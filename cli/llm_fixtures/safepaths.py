"""Untrusted paths and files: keep a path read from data inside the project, open only regular files, bound reads.

Every path that comes from a recording, a state file under `.fixtures/`, a trash manifest or a cache is data from
strangers. `confined` is the one gate such a path passes before anything is read, written or deleted through it;
`read_regular` is the one way a file named by a user or a walk is read (a FIFO, a device or a file that keeps
growing can never hang a command).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath

from llm_fixtures.errors import FixtureError

# The most bytes any one file is read for. Real recordings and cassettes stay far below it (the largest upstream
# file is a few MB); it only stops a file that grows while it is read, or a sparse monster, from eating memory.
MAX_READ = 512 * 1024 * 1024


class OutsideProject(FixtureError):
    """A path read from data leads outside the project (lexically, absolutely, or through a symbolic link)."""


class NotRegularFile(OSError):
    """The path names something that is not a regular file (a FIFO, a device, a socket, a folder)."""


def is_inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or below it (both already resolved; no filesystem access)."""
    return path == folder or folder in path.parents


def confined(relative: str | Path, root: Path, *, what: str) -> Path:
    """The resolved path of `relative` (a path read from data, meant relative to `root`), provided it stays inside
    `root`: not absolute, no drive, no `..` climbing out, no symbolic link on the way leading out. Raises
    OutsideProject naming `what` (the file the path was read from) otherwise. The last component may be missing
    (a file about to be written) or a link to a file inside the project."""
    text = str(relative)
    if not text or "\x00" in text:
        raise OutsideProject(f"{what}: {text!r} is not a usable path")
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).drive or PureWindowsPath(text).root:
        raise OutsideProject(f"{what}: {text!r} is an absolute path; only paths inside the project are allowed")
    real_root = Path(os.path.realpath(root))
    resolved = Path(os.path.realpath(real_root / text))
    if not is_inside(resolved, real_root):
        raise OutsideProject(f"{what}: {text!r} leads outside the project {real_root}")
    return resolved


def confined_absolute(path: Path, root: Path, *, what: str) -> Path:
    """Like `confined` for a path that may be absolute (as some state files store them): resolved, and inside
    `root` through every link."""
    real_root = Path(os.path.realpath(root))
    resolved = Path(os.path.realpath(path if path.is_absolute() else real_root / path))
    if not is_inside(resolved, real_root):
        raise OutsideProject(f"{what}: {str(path)!r} leads outside the project {real_root}")
    return resolved


def read_regular(
    path: str | os.PathLike[str], limit: int = MAX_READ, *, follow_link: bool = True, head: int | None = None
) -> bytes:
    """The bytes of a regular file. Opened without blocking (a FIFO with no writer cannot hang us) and checked
    with fstat on the open descriptor (no race between the check and the read); at most the size fstat gave, and
    never more than `limit`; with `head`, only its first `head` bytes (whatever its size). With
    `follow_link=False` the file itself must not be a symbolic link (for files of our own, such as a trash
    manifest, that nothing may redirect). Raises NotRegularFile for anything else, OSError as `open` does."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_link:
        if Path(path).is_symlink():
            raise NotRegularFile("a symbolic link, not followed")
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"{_kind(info.st_mode)}, not a regular file")
        if head is None and info.st_size > limit:
            raise NotRegularFile(f"larger than {limit // (1024 * 1024)} MiB")
        chunks: list[bytes] = []
        left = info.st_size if head is None else min(info.st_size, head)
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break  # shrank while read: what was there is what we have
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
