"""Near-duplicate recordings of one test: requests that differ only in fields that look volatile (an id made
afresh each run, an empty value spelt two ways, content as a string or as text parts), each field named with the
normalization the recorder's hash would need to stay stable."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from llm_fixtures.diffing.volatility import Found, Volatility, changed_fields, strip_request
from llm_fixtures.explaining.model import DriftField

# The most recordings of one test compared pair by pair.
MAX_FILES = 24
# Where a request keeps what the recorder hashes, per kind of call.
_PARTS = ("body", "payload", "kwargs")


@dataclass(frozen=True, slots=True)
class Drift:
    """The fields near-duplicates differ in, and the near-duplicates (paths)."""

    fields: list[DriftField]
    duplicates: list[str]


@dataclass(frozen=True, slots=True)
class _Side:
    path: str
    request: Any
    raw_request: dict[str, Any]
    found: Found


def _empty(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return value is None
    if isinstance(value, int | float):
        return value == 0
    return isinstance(value, str | list | dict) and not value


def _joined_text(value: Any) -> str | None:
    """The text of a content list made only of text parts (`[{"type": "text", "text": ...}]`), else None."""
    if not isinstance(value, list) or not value:
        return None
    texts = []
    for part in value:
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            return None
        texts.append(part["text"])
    return "".join(texts)


def _show(value: Any) -> str:
    import orjson

    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _field(path: str) -> str:
    """`$.body.messages[0].content` -> `messages[0].content`."""
    path = path.removeprefix("$").removeprefix(".")
    for part in _PARTS:
        if path.startswith(part + ".") or path.startswith(part + "["):
            return path[len(part) :].removeprefix(".")
    return path


_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_ABSENT = object()


def _at(value: Any, path: str) -> Any:
    """The value at a JSON path as `diffing` writes them (`$.body.messages[0]["a b"]`), or _ABSENT."""
    for match in _STEP.finditer(path):
        name, index, quoted = match.groups()
        key: Any = name if name is not None else int(index) if index is not None else json.loads(quoted)
        in_dict = isinstance(value, dict) and isinstance(key, str) and key in value
        if not in_dict and not (isinstance(value, list) and isinstance(key, int) and key < len(value)):
            return _ABSENT
        value = value[key]
    return value


def _looks_volatile(old: Any, new: Any, where: str) -> DriftField | None:
    """A difference that is a way of spelling the same request, or None when it means something. An empty
    value is spelt null, 0, "", [] or {}, or left out; left out against a number is a choice (`temperature` 0
    is not the default), not a spelling."""
    if old is _ABSENT or new is _ABSENT:
        present = new if old is _ABSENT else old
        if not _empty(present) or (isinstance(present, int | float) and not isinstance(present, bool)):
            return None
        old, new = (None, new) if old is _ABSENT else (old, None)
        spelt = f"left out vs {_show(present)}"
    else:
        spelt = f"{_show(old)} vs {_show(new)}"
    if _empty(old) and _empty(new):
        return DriftField(
            field=where,
            difference=f"{spelt} (empty either way)",
            normalization=f"hash `{where}` null, 0, empty and absent alike (drop it from the key when empty)",
        )
    if (isinstance(old, str) and _joined_text(new) == old) or (isinstance(new, str) and _joined_text(old) == new):
        return DriftField(
            field=where,
            difference="a string vs a list of text parts with the same text",
            normalization=f"hash `{where}` given as text parts as the joined string",
        )
    return None


def _matches(value: Any, pattern: tuple[str, ...]) -> bool:
    """Whether a request holds something at a volatile path (`*` any key or item)."""
    if not pattern:
        return True
    head, rest = pattern[0], pattern[1:]
    if isinstance(value, dict):
        items = value.values() if head == "*" else [value[head]] if head in value else []
    elif isinstance(value, list):
        items = value if head == "*" else []
    else:
        return False
    return any(_matches(item, rest) for item in items)


def _volatile_fields(names: list[str], sides: tuple[_Side, _Side], volatility: Volatility) -> list[DriftField]:
    fields = []
    for name in names:
        paths = sorted(
            {
                ".".join(pattern)
                for pattern in volatility.request_paths
                if pattern[-1] == name and any(_matches(side.raw_request, pattern) for side in sides)
            }
        )
        shown = ", ".join(_field(path) for path in paths) or name
        fields.append(
            DriftField(
                field=shown,
                difference="a new value every run (an id)",
                normalization=f"set `{shown}` aside when hashing (or give it a value fixed per test)",
            )
        )
    return fields


def _side(path: str, raw: dict[str, Any], volatility: Volatility) -> _Side:
    request = raw.get("request")
    request = request if isinstance(request, dict) else {}
    hashed = {key: request[key] for key in _PARTS if key in request}
    found: Found = {}
    return _Side(path, strip_request(hashed, volatility, found), hashed, found)


def find_drift(recordings: list[tuple[str, dict[str, Any]]], volatility: Volatility) -> Drift | None:
    """The drift among recordings of one test for one endpoint and model: every pair whose requests differ only
    in volatile-looking fields is a pair of near-duplicates. None when no pair is."""
    if len(recordings) < 2:
        return None
    from llm_fixtures.diffing.changes import field_changes  # deepdiff: paid for only when there are pairs to compare

    sides = [_side(path, raw, volatility) for path, raw in recordings[:MAX_FILES]]
    fields: dict[tuple[str, str], DriftField] = {}
    duplicates: set[str] = set()
    for a, b in combinations(sides, 2):
        volatile = changed_fields(a.found, b.found)
        changes = field_changes(a.request, b.request) if a.request != b.request else []
        looks = [
            _looks_volatile(_at(a.request, change.path), _at(b.request, change.path), _field(change.path))
            for change in changes
        ]
        if any(found is None for found in looks) or not (volatile or looks):
            continue
        duplicates.update((a.path, b.path))
        for drift in [*_volatile_fields(volatile, (a, b), volatility), *(found for found in looks if found)]:
            fields.setdefault((drift.field, drift.difference), drift)
    if not duplicates:
        return None
    return Drift(fields=sorted(fields.values(), key=lambda drift: drift.field), duplicates=sorted(duplicates))
