"""Human output of `fixtures check` and `fixtures normalize`: counts per check, the findings, the plans."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from llm_fixtures.checking import Finding
from llm_fixtures.checking.renames import Rename
from llm_fixtures.escaping import one_line
from llm_fixtures.humanizing import plural
from llm_fixtures.render.console import stderr_console, stdout_console

_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}
_RANK = {"error": 0, "warning": 1, "info": 2}


def render_findings(
    findings: Sequence[Finding], counts: dict[str, Counter[str]], *, files: int, show_info: bool = False
) -> None:
    """The findings grouped by check (status and path, then the message), the checks with errors first, then
    the counts per check. Info findings (duplicated requests, names that are fine) are only counted, unless
    `show_info`: on a real tree there are hundreds, and they would bury the errors."""
    console = stdout_console()
    listed = [finding for finding in findings if show_info or finding.severity != "info"]
    by_check: dict[str, list[Finding]] = {}
    for finding in sorted(listed, key=lambda finding: (_RANK[finding.severity], finding.path)):
        by_check.setdefault(finding.check, []).append(finding)
    order = list(counts)
    checks = sorted(by_check, key=lambda check: (_RANK[by_check[check][0].severity], order.index(check)))
    for check in checks:
        rows = by_check[check]
        width = max(len(finding.status) for finding in rows) + 2
        # One Text per check, printed once: a print per line costs rich more than the checks themselves.
        block = Text()
        block.append(f"{check} ({len(rows)})", style="bold")
        for finding in rows:
            block.append("\n  ")
            block.append(finding.status.ljust(width), style=_STYLE[finding.severity])
            block.append(f"{one_line(finding.path)}\n{' ' * (width + 2)}{one_line(finding.message)}")
        block.append("\n")
        console.print(block, soft_wrap=True)
    summary = Table(box=None, pad_edge=False, header_style="bold")
    summary.add_column("check")
    summary.add_column("status")
    summary.add_column("findings", justify="right")
    for check, statuses in counts.items():
        for status, count in sorted(statuses.items(), key=lambda item: (-item[1], item[0])):
            summary.add_row(Text(check), Text(status), Text(str(count)))
    console.print(summary)
    err = stderr_console()
    folded = Counter(finding.check for finding in findings if finding.severity == "info" and not show_info)
    if folded:
        parts = ", ".join(f"{check} {count}" for check, count in folded.items())
        err.print(Text(f"{plural(folded.total(), 'info finding')} not listed ({parts}); --show-info lists them"))
    err.print(Text(f"{plural(files, 'file')} checked"))


def render_renames(rows: Sequence[Rename], *, write: bool) -> None:
    """One line per rename: `old -> new`, and why a refused one was refused."""
    console = stdout_console()
    for row in rows:
        line = Text(f"{one_line(row.path)} -> {one_line(row.new_path)}")
        if row.status == "refused":
            line.append(f"  (refused: {one_line(row.reason or '')})", style="red")
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
        console.print(Text(one_line(path)), soft_wrap=True)
        for change in changes:
            console.print(Text(f"  {one_line(change)}"), soft_wrap=True)
    verb = "normalized" if write else "would change; run with --write to apply"
    stderr_console().print(Text(f"{len(rows)} of {plural(total, 'file')} {verb}"))
