"""Pytest node ids read from a log: where one ends in a line, and its parts (whether one may be used is the gate
of llm_fixtures/nodeids.py)."""

from __future__ import annotations

import re

from llm_fixtures.nodeids import MAX_NODE_ID

# `path/to/test_x.py::name`: a relative path made of ordinary file-name characters, ending in `.py`, then `::`.
_START = re.compile(r"(?<![^\s\[(])([\w.][\w./+@=,-]*\.py)::")
_NAME = re.compile(r"[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*")


def read_node_id(text: str, start: int = 0) -> tuple[str, int] | None:
    """The node id that begins at `start` in `text` and where it ends: the path, `::`, the name, and its
    parameters up to the `]` that closes them (parameters may hold spaces and brackets); None when no node id
    begins there."""
    match = _START.match(text, start)
    if match is None:
        return None
    name = _NAME.match(text, match.end())
    if name is None:
        return None
    end = name.end()
    if end < len(text) and text[end] == "[":
        depth = 0
        for index in range(end, min(len(text), start + MAX_NODE_ID)):
            char = text[index]
            if char == "[":
                depth += 1
            elif char == "]":
                depth -= 1
                if depth == 0:
                    end = index + 1
                    break
        else:
            return None  # parameters never closed: cut off, not a node id we can use
    if end < len(text) and not text[end].isspace():
        return None
    return text[start:end], end


def find_node_ids(text: str) -> list[tuple[str, int, int]]:
    """Every node id in a line, as (node id, start, end)."""
    found = []
    for match in _START.finditer(text):
        read = read_node_id(text, match.start())
        if read is not None:
            found.append((read[0], match.start(), read[1]))
    return found


def domain_of(node_id: str) -> str:
    """What pytest titles a failure with: the part after the file, classes joined by `.` (`Cls.test[p]`)."""
    rest = node_id.split("::", 1)[1]
    name, bracket, params = rest.partition("[")
    return name.replace("::", ".") + bracket + params


def node_id_from(path: str, title: str) -> str:
    """The node id of a failure titled `title` (`Cls.test[p]`) in the test file `path`."""
    name, bracket, params = title.partition("[")
    return f"{path}::{name.replace('.', '::')}{bracket}{params}"
