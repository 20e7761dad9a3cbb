"""Plain-text tables laid out once: whole values, one line per row, for a pipe; for a terminal, identifying
columns kept whole and the others shortened (then left out, said so) until the rows fit its width."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

ELLIPSIS = "…"
# The narrowest a shortened column becomes when nothing else is left to give way.
MIN_CUT = 8


_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


def cell_width(text: str) -> int:
    """Columns a text takes in a terminal (wide East Asian characters take two, combining marks none)."""
    if text.isascii():
        return len(text)
    width = len(text)
    for char in _NOT_ASCII.findall(text):  # only these can be wider or narrower than one column
        width += 1 if unicodedata.east_asian_width(char) in "WF" else -1 if unicodedata.combining(char) else 0
    return width


def cut_middle(text: str, width: int) -> str:
    """`text` within `width` columns, its middle replaced by one ellipsis so that both ends stay readable."""
    if cell_width(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    room = width - 1
    head, tail = _fit_start(text, (room + 1) // 2), _fit_end(text, room // 2)
    return head + ELLIPSIS + tail


def cut_end(text: str, width: int) -> str:
    """`text` within `width` columns, its end replaced by one ellipsis."""
    if cell_width(text) <= width:
        return text
    return _fit_start(text, max(width - 1, 0)) + ELLIPSIS if width > 0 else ""


def _fit_start(text: str, width: int) -> str:
    if text.isascii():
        return text[:width]
    used = 0
    for index, char in enumerate(text):
        used += cell_width(char)
        if used > width:
            return text[:index]
    return text


def _fit_end(text: str, width: int) -> str:
    if width <= 0:
        return ""
    if text.isascii():
        return text[-width:]
    return _fit_start(text[::-1], width)[::-1]


@dataclass(frozen=True)
class Column:
    """A column: its title, its alignment, how a value is shortened to a width (`cut`), and when it is left
    out of a terminal too narrow for it (`drop`: lowest first, after every shortening; 0: never)."""

    title: str
    right: bool = False
    cut: Callable[[str, int], str] = cut_middle
    drop: int = 0


@dataclass
class Layout:
    """The columns, and how they give way: `steps` (column index, width) are tried one after the other until
    the rows fit (a column without a step never shrinks); then the gap narrows; then the columns with a `drop`
    rank are left out. What is left of the width goes back to the shortened columns in the order of `grow`."""

    columns: Sequence[Column]
    steps: Sequence[tuple[int, int]] = ()
    grow: Sequence[int] = ()
    gap: int = 2
    narrow_gap: int = 1
    left_out: list[str] = field(default_factory=list)


def render_rows(layout: Layout, rows: Sequence[Sequence[str]], width: int | None) -> list[str]:
    """The table as lines, the header first. `width` None (a pipe): every value whole, columns aligned, one
    line per row. Otherwise the rows fit `width` where they can; `layout.left_out` names the columns that did
    not. Values must already be one-line and safe (`sanitizing.clean_cells`)."""
    columns = list(layout.columns)
    titles = [column.title for column in columns]
    sizes = [[cell_width(cell) for cell in row] for row in [titles, *rows]]
    natural = [max(size[i] for size in sizes) for i in range(len(columns))]
    shown = list(range(len(columns)))
    widths = list(natural)
    gap = layout.gap
    if width is not None:
        widths, shown, gap = _fit(layout, natural, width)
        layout.left_out[:] = [columns[i].title for i in range(len(columns)) if i not in shown]
    separator = " " * gap
    last = shown[-1]
    lines = []
    for row, size in zip([titles, *rows], sizes, strict=True):
        parts = []
        for i in shown:
            value, used = row[i], size[i]
            if used > widths[i]:
                value = columns[i].cut(value, widths[i])
                used = cell_width(value)
            pad = " " * (widths[i] - used)
            parts.append(pad + value if columns[i].right else value if i == last else value + pad)
        lines.append(separator.join(parts))
    return lines


def _fit(layout: Layout, natural: list[int], width: int) -> tuple[list[int], list[int], int]:
    """(widths, shown columns, gap) that fit `width`: the steps applied in order, then the narrow gap, then
    columns dropped (each time from the natural widths again); when even that is too wide, the shortened
    columns go below their last step (down to MIN_CUT), and only then may a line be wider than `width`."""
    droppable = sorted((column.drop, i) for i, column in enumerate(layout.columns) if column.drop)
    shown = list(range(len(natural)))
    while True:
        for gap in (layout.gap, layout.narrow_gap):
            widths = list(natural)
            for index, limit in layout.steps:
                if _total(widths, shown, gap) <= width:
                    break
                if index in shown and widths[index] > limit:
                    widths[index] = max(limit, widths[index] - (_total(widths, shown, gap) - width))
            if _total(widths, shown, gap) <= width:
                return _spread(layout, widths, natural, shown, gap, width), shown, gap
        if not droppable:
            for index in layout.grow or [index for index, _limit in layout.steps]:
                excess = _total(widths, shown, gap) - width
                if excess > 0 and index in shown:
                    widths[index] = max(min(MIN_CUT, widths[index]), widths[index] - excess)
            return widths, shown, gap
        shown.remove(droppable.pop(0)[1])


def _total(widths: Sequence[int], shown: Sequence[int], gap: int) -> int:
    return sum(widths[i] for i in shown) + gap * (len(shown) - 1)


def _spread(layout: Layout, widths: list[int], natural: list[int], shown: list[int], gap: int, width: int) -> list[int]:
    """Give what is left of the width back to the shortened columns, in the order of `grow`."""
    spare = width - _total(widths, shown, gap)
    for index in layout.grow or list(dict.fromkeys(index for index, _limit in reversed(layout.steps))):
        if spare <= 0:
            break
        if index in shown and widths[index] < natural[index]:
            grow = min(spare, natural[index] - widths[index])
            widths[index] += grow
            spare -= grow
    return widths
