"""Planning `check --rename`: for stale and mismatched files, the name the current rule gives their content."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llm_fixtures.checking import FileReport

RenameStatus = Literal["pending", "renamed", "refused"]


@dataclass(slots=True)
class Rename:
    """One file to rename, in place (same folder). `refused` says why it cannot be done."""

    path: str
    new_path: str
    status: RenameStatus = "pending"
    reason: str | None = None


def plan_renames(
    reports: Iterable[FileReport], locations: dict[str, Path], exists: Callable[[Path], bool]
) -> list[tuple[Rename, Path, Path]]:
    """Every rename the reports call for, as (row, source, target); a target that already exists, or that
    another rename of the plan takes first, is refused (never overwritten)."""
    planned: list[tuple[Rename, Path, Path]] = []
    taken: set[Path] = set()
    for report in sorted(reports, key=lambda report: report.path):
        if report.current_name is None:
            continue
        source = locations[report.path]
        target = source.with_name(report.current_name)
        shown = str(Path(report.path).with_name(report.current_name))
        row = Rename(path=report.path, new_path=shown)
        if target in taken or exists(target):
            row.status = "refused"
            row.reason = f"{shown} already exists; not overwritten"
        taken.add(target)
        planned.append((row, source, target))
    return planned
