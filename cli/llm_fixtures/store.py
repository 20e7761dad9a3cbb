"""Recording files on disk: read one (a regular file only), load it (see `decoding`), write atomically."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from llm_fixtures.decoding import Loaded, load_bytes
from llm_fixtures.errors import BadRecording, WriteError
from llm_fixtures.safepaths import NotRegularFile, read_regular


def read_bytes(path: Path | str) -> bytes:
    """The bytes of a regular file (never a FIFO or a device: see safepaths), or BadRecording naming what
    stopped us."""
    try:
        return read_regular(path)
    except NotRegularFile as exc:
        raise BadRecording(path, str(exc)) from None
    except IsADirectoryError:
        raise BadRecording(path, "is a directory, not a recording file") from None
    except PermissionError:
        raise BadRecording(path, "permission denied") from None
    except FileNotFoundError:
        if Path(path).is_symlink():
            raise BadRecording(path, "broken symbolic link") from None
        raise BadRecording(path, "no such file") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise BadRecording(path, "symbolic link loop") from None
        raise BadRecording(path, exc.strerror or str(exc)) from None


def load_recording(path: Path, display: str | None = None) -> Loaded:
    """Read, parse and validate one recording file. `display` is the path shown in facts and messages."""
    shown = display if display is not None else str(path)
    return load_bytes(read_bytes(path), shown, path)


def write_atomic(
    path: Path, data: bytes, *, like: Path | None = None, mode: int | None = None, durable: bool = True
) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename: readers see the old
    file or the new one, never half of one. The new file keeps the permission bits and the owner of the file
    it replaces, or of `like` (the file it is a renamed copy of); a file of its own gets `mode` (default
    0o644). An owner that cannot be kept is a WriteError, and nothing is written. The bytes reach the disk
    before the rename unless `durable=False` (a cache, which may be lost)."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        raise WriteError(f"{path}: file is read-only; nothing written")
    try:
        model: os.stat_result | None = (like or path).stat()
    except OSError:
        model = None
    if model is not None and not stat.S_ISREG(model.st_mode):
        model = None  # a FIFO or a device in the way is replaced, not copied
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise WriteError(f"{folder}: cannot write here: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if model is not None and hasattr(os, "fchown"):
                _keep_owner(handle.fileno(), model, path)
            if durable:
                os.fsync(handle.fileno())
        tmp.chmod(model.st_mode & 0o7777 if model is not None else (mode or 0o644) & 0o777)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None
    except WriteError:
        tmp.unlink(missing_ok=True)
        raise


def _keep_owner(fd: int, model: os.stat_result, path: Path) -> None:
    """Give the temporary file the owner and group of the file it stands in for (before its mode: a change
    of owner clears the set-id bits)."""
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (model.st_uid, model.st_gid):
        return
    try:
        os.fchown(fd, model.st_uid, model.st_gid)
    except PermissionError:
        raise WriteError(
            f"{path}: owned by user {model.st_uid}, group {model.st_gid}; cannot keep its owner; nothing written"
        ) from None
