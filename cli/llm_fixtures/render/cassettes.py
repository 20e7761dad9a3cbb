"""Human output of cassettes in `fixtures ls`: one row per cassette, or per interaction with `--interactions`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.rule import Rule
from rich.table import Table

from llm_fixtures.cassettes.describing import CassetteFacts, InteractionFacts
from llm_fixtures.cassettes.showing import MessageView
from llm_fixtures.escaping import one_line
from llm_fixtures.humanizing import human_bytes, plural
from llm_fixtures.render.console import stderr_console, stdout_console
from llm_fixtures.render.recorded import RecordedText

if TYPE_CHECKING:
    from llm_fixtures.cassettes.pruneplan import Tiers


def _stream(streaming: bool, chunks: int) -> str:
    return f"yes {chunks}" if streaming else "no"


def _more(first: str | None, every: tuple[str, ...]) -> str:
    return f"{first or ''} +{len(every) - 1}" if len(every) > 1 else first or ""


def _cell(value: str) -> RecordedText:
    """A table cell or title from a cassette (a path, an endpoint, a model), kept on one line."""
    return RecordedText(one_line(value))


def short_path(path: str, width: int) -> str:
    """A cassette path that fits `width`: whole when it does, else from its test module's folder (what follows
    the last `cassettes/`), else cut in the middle so both ends stay readable."""
    if len(path) <= width:
        return path
    tail = "…/" + path.rsplit("cassettes/", 1)[-1]
    if len(tail) <= width:
        return tail
    keep = max(width - 1, 8)
    return path[: keep // 3] + "…" + path[-(keep - keep // 3) :]


def _path_width(others: int) -> int:
    return max(32, stdout_console().width - others)


def render_cassettes(rows: Sequence[CassetteFacts], *, total: int) -> None:
    """The cassettes table on stdout (the first endpoint and model of each, `+N` for the others), a count on
    stderr."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    for title, justify in (
        ("cassette", "left"),
        ("format", "left"),
        ("n", "right"),
        ("endpoint", "left"),
        ("model", "left"),
        ("provider", "left"),
        ("stream", "right"),
        ("size", "right"),
    ):
        table.add_column(title, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    others = sum(
        max([len(title), *(len(cell(facts)) for facts in rows)]) + 2
        for title, cell in (
            ("format", lambda f: f.format + ".gz"),
            ("n", lambda f: str(f.interactions)),
            ("endpoint", lambda f: _more(f.endpoint, f.endpoints)),
            ("model", lambda f: _more(f.model, f.models)),
            ("provider", lambda f: _more(f.provider, f.providers)),
            ("stream", lambda f: _stream(f.streaming, f.chunks)),
            ("size", lambda f: human_bytes(f.bytes)),
        )
    )
    width = _path_width(others + 2)
    for facts in rows:
        marker = " !" if facts.error else ""
        table.add_row(
            _cell(short_path(facts.path, width - len(marker)) + marker),
            _cell(facts.format if not facts.compressed else f"{facts.format}.gz"),
            _cell(str(facts.interactions)),
            _cell(_more(facts.endpoint, facts.endpoints)),
            _cell(_more(facts.model, facts.models)),
            _cell(_more(facts.provider, facts.providers)),
            _cell(_stream(facts.streaming, facts.chunks)),
            _cell(human_bytes(facts.bytes)),
        )
    stdout_console().print(table)
    size = sum(facts.bytes for facts in rows)
    stderr_console().print(RecordedText(f"{len(rows)} of {total} cassettes, {human_bytes(size)}", style="dim"))


def render_interactions(rows: Sequence[InteractionFacts], *, total: int) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for title, justify in (
        ("cassette", "left"),
        ("#", "right"),
        ("method", "left"),
        ("endpoint", "left"),
        ("model", "left"),
        ("status", "right"),
        ("stream", "right"),
    ):
        table.add_column(title, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    cells: tuple[tuple[str, Callable[[InteractionFacts], str]], ...] = (
        ("#", lambda r: str(r.interaction)),
        ("method", lambda r: r.method),
        ("endpoint", lambda r: r.endpoint),
        ("model", lambda r: r.model or ""),
        ("status", lambda r: f"{r.status} !"),
        ("stream", lambda r: _stream(r.streaming, r.chunks)),
    )
    others = sum(max([len(title), *(len(cell(row)) for row in rows)]) + 2 for title, cell in cells)
    width = _path_width(others + 2)
    for row in rows:
        table.add_row(
            _cell(short_path(row.path, width)),
            _cell(str(row.interaction)),
            _cell(row.method),
            _cell(row.endpoint),
            _cell(row.model or ""),
            _cell("" if row.status is None else str(row.status) + (" !" if row.error else "")),
            _cell(_stream(row.streaming, row.chunks)),
        )
    stdout_console().print(table)
    stderr_console().print(RecordedText(f"{len(rows)} of {total} interactions", style="dim"))


def render_messages(views: Sequence[MessageView]) -> None:
    """The frames of WebSocket cassettes: a rule per cassette, then one line per frame (position, direction,
    name) with its data in short JSON; audio and other long strings cut."""
    console = stdout_console()
    current = None
    for view in views:
        if view.path != current:
            current = view.path
            console.print(Rule(_cell(view.path), align="left"))
        arrow = {"sent": "→", "received": "←"}.get(view.direction or "", "·")
        line = RecordedText(f"{view.interaction:>4} {arrow} ")
        line.append(one_line(view.name), style="bold")
        data = _short_json(view.data)
        if data and view.kind != "close":
            line.append("  " + data)
        console.print(line, overflow="ellipsis", no_wrap=True)


def _short_json(value: Any, limit: int = 60) -> str:
    def cut(item: Any) -> Any:
        if isinstance(item, str):
            return item if len(item) <= limit else f"{item[:limit]}… ({len(item)} chars)"
        if isinstance(item, dict):
            return {key: cut(child) for key, child in item.items()}
        if isinstance(item, list):
            return [cut(child) for child in item]
        return item

    try:
        return json.dumps(cut(value), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:200]


def _positions(indexes: Sequence[int]) -> str:
    """`0, 2-5, 7`: positions, runs shortened."""
    runs: list[list[int]] = []
    for index in indexes:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def render_tiers(tiers: Tiers) -> None:
    """On stderr, after `prune`'s listing: the cassettes with interactions no passing test played in the replay
    run (they stay: a cassette is removed whole or not at all), and the loaded ones that changed since."""
    err = stderr_console()
    if tiers.unplayed:
        err.print(
            RecordedText(
                f"unplayed interactions in {plural(len(tiers.unplayed), 'cassette')}: never played by a passing test "
                "in the replay run (left in place; re-recording the test drops them)"
            )
        )
        for item in tiers.unplayed:
            which = "interaction" if len(item.unplayed) == 1 else "interactions"
            err.print(
                RecordedText(f"  {one_line(item.path)}  {which} {_positions(item.unplayed)} of {item.count}"),
                soft_wrap=True,
            )
    if tiers.changed_since:
        err.print(
            RecordedText(
                f"note: {plural(tiers.changed_since, 'cassette')} changed since the replay run; not judged by it"
            )
        )
