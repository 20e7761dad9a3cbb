"""Where `fixtures` keeps its working state in a project: `<project>/.fixtures` (backups of record runs, staged
recordings awaiting review)."""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".fixtures"


def state_dir(root: Path) -> Path:
    """`<project>/.fixtures`, made on first use; ignored by git (it holds its own .gitignore). No file in it ends
    in `.json`, so no listing of recordings ever takes one for a recording."""
    folder = root / STATE_DIR
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder
