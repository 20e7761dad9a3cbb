"""Human output of `fixtures ls`: the recordings table and the group counts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from llm_fixtures.facts import Facts
from llm_fixtures.filtering import Group
from llm_fixtures.humanizing import human_bytes, plural
from llm_fixtures.render.columns import Column, Layout, cell_width, cut_end, cut_middle, render_rows
from llm_fixtures.render.console import terminal_width, write_line, write_lines
from llm_fixtures.sanitizing import ProjectAllowlist, clean_cells

if TYPE_CHECKING:
    from llm_fixtures.cassettes.cataloging import CassetteGroup

NO_TEST_ID = "(no test id)"
NO_VALUE = "(none)"
_TEST_PREFIXES = ("tests/integration/", "tests/")
# Shortest width the test column is cut to before other columns are left out.
MIN_TEST = 28


def short_test_id(test_id: str | None) -> str:
    """A test id as a terminal shows it: without the common `tests/integration/` (or `tests/`) prefix."""
    if not test_id:
        return NO_TEST_ID
    for prefix in _TEST_PREFIXES:
        if test_id.startswith(prefix):
            return test_id[len(prefix) :]
    return test_id


def cut_test_id(test_id: str, width: int) -> str:
    """A test id within `width` columns, as readable as it can stay: the folders of its file go first, then
    the file; then the parameters lose their middle (both ends kept, one ellipsis) and, when the function name
    would leave them less than half the width, the function name its end, so that the id still says which
    parametrization it is."""
    if cell_width(test_id) <= width:
        return test_id
    head, bracket, params = test_id.partition("[")
    path, sep, function = head.partition("::")
    heads = [head, path.rsplit("/", 1)[-1] + sep + function, function] if sep else [head]
    for candidate in heads:
        if cell_width(candidate) + cell_width(bracket + params) <= width:
            return candidate + bracket + params
    head = heads[-1]
    inner = params[:-1] if params.endswith("]") else params
    if not bracket or width < 12:
        return cut_middle(head + bracket + params, width)
    room = width - 2  # the brackets
    params_room = max(room - cell_width(head), min(cell_width(inner), room // 2))
    return f"{cut_end(head, room - params_room)}[{cut_middle(inner, params_room)}]"


_VERSION = re.compile(r"(?<![^:])/(?:v\d+\w*|api)/")


def cut_endpoint(endpoint: str, width: int) -> str:
    """An endpoint within `width` columns: its version segment (`/v1/`, `/v1beta/`, `/api/`) goes first."""
    if cell_width(endpoint) <= width:
        return endpoint
    return cut_middle(_VERSION.sub("", endpoint, count=1), width)


def _stream_cell(facts: Facts) -> str:
    return f"yes {facts.chunks}" if facts.streaming else "no"


def _endpoint_cell(facts: Facts) -> str:
    return facts.endpoint if facts.kind == "inference" else f"{facts.kind}:{facts.endpoint}"


# hash, test, endpoint, model, stream, size: the hash, the counts and the size never shrink; the test id gives
# way first (to a point), then the model and the endpoint; then the narrow gap; then model and endpoint go.
_TABLE = Layout(
    columns=(
        Column("hash"),
        Column("test", cut=cut_test_id),
        Column("endpoint", cut=cut_endpoint, drop=2),
        Column("model", drop=1),
        Column("stream", right=True),
        Column("size", right=True),
    ),
    steps=((1, 48), (3, 20), (2, 18), (1, 36), (3, 14), (2, 16), (1, MIN_TEST)),
    grow=(1, 3, 2),
)


def render_table(rows: Sequence[Facts], *, total: int) -> None:
    """The recordings table on stdout, a one-line count on stderr. A terminal gets rows that fit its width (the
    test id shortened, columns left out only when nothing else fits, and said so); a pipe gets every value
    whole, one line per recording."""
    width = terminal_width()
    cells = [
        [
            facts.hash[:12] + (" !" if facts.error else ""),
            short_test_id(facts.test_id) if width is not None else facts.test_id or NO_TEST_ID,
            _endpoint_cell(facts),
            facts.model or "",
            _stream_cell(facts),
            human_bytes(facts.bytes),
        ]
        for facts in rows
    ]
    layout = Layout(_TABLE.columns, _TABLE.steps, _TABLE.grow)
    _print_table(render_rows(layout, _safe_rows(cells), width))
    size = human_bytes(sum(facts.bytes for facts in rows))
    note = ""
    if layout.left_out:
        names = " and ".join(layout.left_out)
        note = f"; {names} left out to fit {width} columns (--json has every field)"
    count = plural(total, "recording") if len(rows) == total else f"{len(rows)} of {plural(total, 'recording')}"
    write_line(f"{count}, {size}{note}")


def render_groups(groups: Sequence[Group | CassetteGroup], key: str, unit: str = "recordings") -> None:
    """The counts per group: the value (a test id shortened in a terminal, whole in a pipe), how many (of `unit`:
    recordings, cassettes or interactions), bytes."""
    width = terminal_width()
    cells = [[_group_label(item.key, key, width), str(item.count), human_bytes(item.bytes)] for item in groups]
    layout = Layout(
        columns=(
            Column(key, cut=cut_test_id if key == "test" else cut_middle),
            Column(unit, right=True),
            Column("size", right=True),
        ),
        steps=((0, MIN_TEST),),
    )
    _print_table(render_rows(layout, _safe_rows(cells), width))


def _group_label(value: str | None, key: str, width: int | None) -> str:
    if not value:
        return NO_VALUE
    return short_test_id(value) if key == "test" and width is not None else value


def _safe_rows(rows: list[list[str]]) -> list[list[str]]:
    """Every cell masked and escaped at once (one scan for secrets over the whole table), widths then true."""
    if not rows:
        return rows
    per_row = len(rows[0])
    flat = clean_cells([cell for row in rows for cell in row], ProjectAllowlist())
    return [flat[i : i + per_row] for i in range(0, len(flat), per_row)]


def _print_table(lines: list[str]) -> None:
    """The lines on stdout, the header in bold where styles are taken (never through rich's layout)."""
    write_lines(lines, bold_first=True)
