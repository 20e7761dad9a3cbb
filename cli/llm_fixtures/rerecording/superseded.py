"""Old recordings that a re-record replaced under another name (their request changed, so their name did): named
and kept, or with `--prune-superseded` removed reversibly, as `fixtures prune --delete` removes files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from llm_fixtures.config import Project


def supersede(project: Project, paths: list[Path], prune: bool, warn: Callable[[str], None]) -> list[str]:
    """Each superseded file named on stderr, or (`prune`) removed reversibly; the paths removed."""
    shown = [str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path) for path in paths]
    if not prune:
        for path in shown:
            warn(f"superseded (kept; --prune-superseded removes it): {path}")
        return []
    from llm_fixtures.trashing import remove_reversibly

    remove_reversibly(paths, project.root)
    return shown
