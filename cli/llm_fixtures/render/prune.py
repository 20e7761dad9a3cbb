"""Human output of `fixtures prune`: orphans grouped by test file, totals, what was left alone, what to run next."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from llm_fixtures.discovery import is_cassette_name
from llm_fixtures.escaping import one_line
from llm_fixtures.humanizing import human_bytes
from llm_fixtures.humanizing import plural as _plural
from llm_fixtures.pruning import PrunePlan, group_key
from llm_fixtures.render.console import stderr_console, stdout_console, write_lines

if TYPE_CHECKING:
    from llm_fixtures.orphaning import Evidence
    from llm_fixtures.trashing import TrashBatch


def next_command(paths: Sequence[Path] | None, evidence: Evidence) -> str:
    """The same selection with `--delete`: what to run to act on the listing."""
    words = ["fixtures", "prune", *(str(path) for path in paths or [])]
    words += ["--collect"] if evidence.collect else []
    for manifest in evidence.unused_from:
        words += ["--unused-from", str(manifest)]
    words += ["--unreachable"] if evidence.unreachable else []
    words += ["--include-shared"] if evidence.include_shared else []
    return shlex.join([*words, "--delete"])


def _counted(paths: Sequence[str]) -> str:
    """How many files, named by what they are: `3 recordings`, `2 cassettes`, `5 files` when mixed."""
    cassettes = sum(1 for path in paths if is_cassette_name(path))
    noun = "recording" if cassettes == 0 else "cassette" if cassettes == len(paths) else "file"
    return _plural(len(paths), noun)


def _scanned(plan: PrunePlan) -> str:
    """What was scanned: `40 recordings`, `64 cassettes`, or `40 recordings and 64 cassettes`."""
    recordings = plan.scanned - plan.cassettes_scanned
    parts = [_plural(recordings, "recording")] if recordings or not plan.cassettes_scanned else []
    parts += [_plural(plan.cassettes_scanned, "cassette")] if plan.cassettes_scanned else []
    return " and ".join(parts)


def _test_cell(test_id: str | None) -> str:
    if not test_id:
        return "(no test id)"
    return one_line(test_id.split("::", 1)[1] if "::" in test_id else test_id)


def render_plan(plan: PrunePlan, *, next_command: str | None) -> None:
    """The orphans table on stdout (one section per test file), the totals and the command to run next;
    a count on stderr when there are none."""
    from rich.text import Text

    err = stderr_console()
    if not plan.orphans:
        err.print(f"no orphans among {_scanned(plan)} (tiers: {', '.join(plan.tiers)})")
        return
    out = stdout_console()
    # Columns line up down the whole listing. Paths are what a person copies: never cut; the test gives way.
    path_width = max(len(one_line(orphan.path)) for orphan in plan.orphans)
    size_width = max(len(human_bytes(orphan.bytes)) for orphan in plan.orphans)
    groups = 0
    for test_file, members in groupby(plan.orphans, key=group_key):
        rows = list(members)
        groups += 1
        reasons = sorted({orphan.reason for orphan in rows})
        common = reasons[0] if len(reasons) == 1 else None
        size = human_bytes(sum(orphan.bytes for orphan in rows))
        counted = _counted([orphan.path for orphan in rows])
        out.print(Text(f"{one_line(test_file)}: {one_line(common or 'several reasons')} ({counted}, {size})"))
        for orphan in rows:
            line = f"  {one_line(orphan.path):<{path_width}}  {human_bytes(orphan.bytes):>{size_width}}  "
            line += "" if common else f"{one_line(orphan.reason)}: "
            test = _test_cell(orphan.test_id)
            room = max(out.width - len(line), 20)
            line += test if len(test) <= room else test[: room - 1] + "…"
            out.print(Text(line), no_wrap=True, crop=False)
    out.print(
        f"{_plural(len(plan.orphans), 'orphan')}, {human_bytes(plan.orphan_bytes)}, in "
        f"{_plural(groups, 'test file')} (scanned {_scanned(plan)}; tiers: {', '.join(plan.tiers)})"
    )
    if next_command:
        out.print(f"next: {next_command}")


KIND_TITLES = {
    "unparsable": "test file does not parse",
    "unsafe": "test id leads outside the project",
    "unreadable": "test file cannot be read",
    "undecidable": "cannot tell from the syntax tree",
    "foreign": "test id names no Python file",
}
SHOWN_PER_KIND = 5


def render_left_alone(plan: PrunePlan, problems: Sequence[str]) -> None:
    """On stderr: recordings whose test could not be looked at (never orphans), one block per kind of reason
    with a few test files as examples; then unreadable files. Plain lines (no rich): `prune --json` prints them
    too."""
    lines: list[str] = []
    for kind, members in groupby(sorted(plan.undecided, key=lambda item: item.kind), key=lambda item: item.kind):
        rows = list(members)
        by_file: dict[str, str] = {}
        for item in rows:
            by_file.setdefault(group_key(item), item.reason)
        title = KIND_TITLES.get(kind, kind)
        count = f"{_counted([item.path for item in rows])} of {_plural(len(by_file), 'test file')}"
        lines.append(f"left alone ({title}): {count}")
        lines += [
            f"  {one_line(test_file)}: {one_line(reason)}"
            for test_file, reason in list(by_file.items())[:SHOWN_PER_KIND]
        ]
        if len(by_file) > SHOWN_PER_KIND:
            lines.append(f"  ... and {len(by_file) - SHOWN_PER_KIND} more")
    lines += [f"unreadable, left alone: {one_line(problem)}" for problem in problems]
    if lines:
        write_lines(lines, err=True)


def render_removed(batch: TrashBatch) -> None:
    """What `--delete` did, on stderr."""
    err = stderr_console()
    if not batch.entries:
        err.print("nothing removed")
        return
    parts = []
    if batch.deleted:
        parts.append(f"{batch.deleted} deleted (git has them)")
    if batch.trashed:
        parts.append(f"{batch.trashed} moved to {batch.folder}")
    err.print(f"removed {_counted([entry.path for entry in batch.entries])}: {', '.join(parts)}")
    err.print("undo: fixtures prune --restore")


def render_restored(paths: Sequence[Path], base: Path) -> None:
    """The restored files on stdout, a count on stderr."""
    from rich.text import Text

    out = stdout_console()
    for path in paths:
        try:
            shown = str(path.relative_to(base))
        except ValueError:
            shown = str(path)
        out.print(Text(one_line(shown)))
    stderr_console().print(
        f"restored {_counted([str(path) for path in paths])}" if paths else "nothing to restore: no trash batch"
    )
