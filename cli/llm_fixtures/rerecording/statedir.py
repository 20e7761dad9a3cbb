"""Where `fixtures` keeps its working state in a project: `<project>/.fixtures` (backups of record runs, staged
recordings awaiting review), a real folder of the project, never a link leading elsewhere."""

from __future__ import annotations

import contextlib
from pathlib import Path

from llm_fixtures.safepaths import OutsideProject, confined

STATE_DIR = ".fixtures"
_IGNORE = "*\n"


def state_dir(root: Path) -> Path:
    """`<project>/.fixtures`, made on first use; ignored by git (it holds its own .gitignore). No file in it ends
    in `.json`, so no listing of recordings ever takes one for a recording. OutsideProject (one line, nothing
    written) when it is a link, or reaches outside the project."""
    folder = root / STATE_DIR
    if folder.is_symlink():
        raise OutsideProject(f"{folder}: a link; fixtures keeps its state in a real folder of the project only")
    confined(STATE_DIR, root, what=str(folder))
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_IGNORE)
    return folder


def checked_state_dir(root: Path) -> Path | None:
    """`<project>/.fixtures` when it is there (never made here), checked as `state_dir` checks it."""
    folder = root / STATE_DIR
    if not folder.is_symlink() and not folder.exists():
        return None
    if folder.is_symlink():
        raise OutsideProject(f"{folder}: a link; fixtures keeps its state in a real folder of the project only")
    confined(STATE_DIR, root, what=str(folder))
    return folder


def tidy_state_dir(root: Path) -> None:
    """Remove `<project>/.fixtures` when it holds nothing but the .gitignore this module wrote: a finished run
    leaves the project as it found it."""
    folder = root / STATE_DIR
    ignore = folder / ".gitignore"
    with contextlib.suppress(OSError):
        if folder.is_symlink() or [child.name for child in folder.iterdir()] != [".gitignore"]:
            return
        if ignore.is_symlink() or ignore.read_text() != _IGNORE:
            return
        ignore.unlink()  # the file this module wrote, exactly
        folder.rmdir()
