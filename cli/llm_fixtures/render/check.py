"""Human output of `fixtures check` and `fixtures normalize`: counts per check, the findings, the plans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from llm_fixtures.checking import Finding
from llm_fixtures.checking.renames import Rename
from llm_fixtures.render.console import stderr_console, stdout_console

_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


def render_findings(findings: Sequence[Finding], counts: dict[str, Counter[str]], *, files: int) -> None:
    """The findings grouped by check (status and path, then the message), then the counts per check."""
    console = stdout_console()
    for check in counts:
        rows = [finding for finding in findings if finding.check == check]
        if not rows:
            continue
        width = max(len(finding.status) for finding in rows) + 2
        # One Text per check, printed once: a print per line costs rich more than the checks themselves.
        block = Text()
        block.append(f"{check} ({len(rows)})", style="bold")
        for finding in rows:
            block.append("\n  ")
            block.append(finding.status.ljust(width), style=_STYLE[finding.severity])
            block.append(f"{finding.path}\n{' ' * (width + 2)}{finding.message}")
        block.append("\n")
        console.print(block, soft_wrap=True)
    summary = Table(box=None, pad_edge=False, header_style="bold")
    summary.add_column("check")
    summary.add_column("status")
    summary.add_column("files", justify="right")
    for check, statuses in counts.items():
        for status, count in sorted(statuses.items(), key=lambda item: (-item[1], item[0])):
            summary.add_row(Text(check), Text(status), Text(str(count)))
    console.print(summary)
    stderr_console().print(Text(f"{files} files checked"))


def render_renames(rows: Sequence[Rename], *, write: bool) -> None:
    """One line per rename: `old -> new`, and why a refused one was refused."""
    console = stdout_console()
    for row in rows:
        line = Text(f"{row.path} -> {row.new_path}")
        if row.status == "refused":
            line.append(f"  (refused: {row.reason})", style="red")
        console.print(line, soft_wrap=True)
    done = sum(row.status == "renamed" for row in rows)
    refused = sum(row.status == "refused" for row in rows)
    pending = sum(row.status == "pending" for row in rows)
    tail = f"{done} renamed" if write else f"{pending} to rename; run with --write to apply"
    stderr_console().print(Text(f"{tail}; {refused} refused" if refused else tail))


def render_normalize(rows: Sequence[tuple[str, list[str]]], *, write: bool, total: int) -> None:
    """Each file that changes (or would), with its changed fields."""
    console = stdout_console()
    for path, changes in rows:
        console.print(Text(path), soft_wrap=True)
        for change in changes:
            console.print(Text(f"  {change}"), soft_wrap=True)
    verb = "normalized" if write else "would change; run with --write to apply"
    stderr_console().print(Text(f"{len(rows)} of {total} files {verb}"))
