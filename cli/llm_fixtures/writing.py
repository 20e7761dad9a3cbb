"""Writing what check and normalize decided: every target is checked for read-only first, so nothing is
half-done; then each write is atomic, and a rename never replaces an existing file."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from llm_fixtures.errors import WriteError


def read_only(path: Path) -> bool:
    """Whether a file or folder is read-only. The mode bits count even for root (who may write anyway):
    a file marked read-only is left alone."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def ensure_writable(pairs: Sequence[tuple[Path, Path]]) -> None:
    """Before writing anything: every (source, target) must have a writable source file and target folder,
    or one error names the first that does not."""
    for source, target in pairs:
        if source.exists() and read_only(source):
            raise WriteError(f"{source}: file is read-only; nothing written")
        if read_only(target.parent):
            raise WriteError(f"{target.parent}: folder is read-only; nothing written")


def rename_file(source: Path, target: Path) -> None:
    """Write the content under the new name (atomically, never over an existing file, with the old file's mode
    and owner), then drop the old."""
    from llm_fixtures.errors import BadRecording
    from llm_fixtures.store import read_bytes, write_atomic

    if target.exists() or target.is_symlink():
        raise WriteError(f"{target}: already exists; not overwritten")
    try:
        data = read_bytes(source)
    except BadRecording as exc:
        raise WriteError(f"{exc}; nothing renamed") from None
    write_atomic(target, data, like=source)
    try:
        source.unlink()
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise WriteError(f"{source}: cannot remove after copying: {exc.strerror or exc}; nothing renamed") from None
