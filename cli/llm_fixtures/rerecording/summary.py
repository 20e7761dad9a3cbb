"""What a re-recording changed, in the words of `fixtures diff`: the classes of change between an old file and
its new bytes (content, tool_calls, usage, ... or only volatile fields)."""

from __future__ import annotations

from llm_fixtures.errors import BadRecording
from llm_fixtures.store import load_bytes
from llm_fixtures.volatility import Volatility


def change_classes(old: bytes, new: bytes, display: str, volatility: Volatility) -> list[str]:
    """The diff classes between two versions of one recording; `["unchanged"]` when they mean the same, and
    `["unreadable"]` when either side does not parse (the bytes differ all the same)."""
    from llm_fixtures.diffing import compare

    if old == new:
        return ["unchanged"]
    try:
        before, after = load_bytes(old, display), load_bytes(new, display)
    except BadRecording:
        return ["unreadable"]
    classes, _details = compare((before.file, before.facts), (after.file, after.facts), volatility)
    return list(classes) or ["unchanged"]
