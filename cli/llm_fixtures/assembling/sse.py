"""Server-sent events: lines to events (WHATWG event-stream rules), as recordings store them or `.sse` captures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__, and a long
class Event:  # stream makes thousands of these (more than half the time of parsing it)
    """One dispatched event: its name (`event:`, "" when unnamed) and its data lines joined with newlines."""

    name: str
    data: str


def parse_lines(lines: Iterable[str]) -> list[Event]:
    """Events of an event stream given line by line. A blank line dispatches; `:` starts a comment; an event
    with no `data:` line is dropped; the last event is dispatched even without a trailing blank line."""
    events: list[Event] = []
    name = ""
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                events.append(Event(name, "\n".join(data)))
            name, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    if data:
        events.append(Event(name, "\n".join(data)))
    return events


def parse_text(text: str) -> list[Event]:
    """Events of a whole event-stream text (`\\n`, `\\r\\n` or `\\r` line ends)."""
    return parse_lines(text.splitlines())


def looks_like_sse(lines: list[str]) -> bool:
    """Whether a list of strings reads as event-stream lines rather than arbitrary text."""
    return any(line.startswith(("data:", "event:")) for line in lines[:50])
