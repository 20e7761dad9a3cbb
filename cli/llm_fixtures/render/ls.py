"""Human output of `fixtures ls`: the recordings table and the group counts."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from llm_fixtures.facts import Facts
from llm_fixtures.filtering import Group
from llm_fixtures.render.console import stderr_console, stdout_console

_TEST_PREFIXES = ("tests/integration/", "tests/")


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def short_test_id(test_id: str | None, width: int = 72) -> str:
    """`suite/test_file.py::test[params]` without the common `tests/integration/` prefix, with long
    parameters cut in the middle so both ends stay readable."""
    if not test_id:
        return "(no test id)"
    for prefix in _TEST_PREFIXES:
        if test_id.startswith(prefix):
            test_id = test_id[len(prefix) :]
            break
    if len(test_id) <= width:
        return test_id
    head, bracket, params = test_id.partition("[")
    if len(head) > width // 2:
        # Keep the function name whole: drop the folders of the test file first.
        file_part, sep, function = head.partition("::")
        head = file_part.rsplit("/", 1)[-1] + sep + function
        if len(head) > width - 8 and function:
            head = function
    if not bracket:
        return head if len(head) <= width else head[: width - 1] + "…"
    room = max(width - len(head) - 3, 8)
    if len(params) > room:
        params = params[: room // 2] + "…" + params[-(room - room // 2) :]
    return f"{head}[{params}"


def _stream_cell(facts: Facts) -> str:
    return f"yes {facts.chunks}" if facts.streaming else "no"


def _endpoint_cell(facts: Facts) -> str:
    return facts.endpoint if facts.kind == "inference" else f"{facts.kind}:{facts.endpoint}"


def render_table(rows: Sequence[Facts], *, total: int) -> None:
    """The recordings table on stdout, and a one-line count on stderr. The test column takes what the other
    columns leave of the terminal's width."""
    console = stdout_console()
    others = sum(
        max([len(title), *(len(cell(facts)) for facts in rows)]) + 2
        for title, cell in (
            ("hash", lambda f: f.hash[:12] + " !"),
            ("endpoint", _endpoint_cell),
            ("model", lambda f: f.model or ""),
            ("stream", _stream_cell),
            ("size", lambda f: human_bytes(f.bytes)),
        )
    )
    test_width = max(24, min(72, console.width - others - 2))
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("hash", no_wrap=True)
    table.add_column("test", overflow="ellipsis", no_wrap=True, max_width=test_width)
    table.add_column("endpoint", no_wrap=True)
    table.add_column("model", no_wrap=True)
    table.add_column("stream", justify="right", no_wrap=True)
    table.add_column("size", justify="right", no_wrap=True)
    for facts in rows:
        marker = " !" if facts.error else ""
        table.add_row(
            Text(facts.hash[:12] + marker),
            Text(short_test_id(facts.test_id, test_width)),
            Text(_endpoint_cell(facts)),
            Text(facts.model or ""),
            Text(_stream_cell(facts)),
            Text(human_bytes(facts.bytes)),
        )
    console.print(table)
    size = sum(facts.bytes for facts in rows)
    stderr_console().print(Text(f"{len(rows)} of {total} recordings, {human_bytes(size)}", style="dim"))


def render_groups(groups: Sequence[Group], key: str) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column(key, overflow="fold")
    table.add_column("recordings", justify="right")
    table.add_column("size", justify="right")
    for item in groups:
        table.add_row(Text(item.key if item.key is not None else "(none)"), str(item.count), human_bytes(item.bytes))
    stdout_console().print(table)
