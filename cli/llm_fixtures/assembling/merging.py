"""Accumulators shared by every fold: text joined once, the generic delta merge, surrogate re-pairing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

_Slot = TypeVar("_Slot")

_SURROGATE = re.compile("[\ud800-\udfff]")

# Keys whose value is a label: the last non-empty value wins, never concatenated (ASSEMBLY §2.4).
LABEL_KEYS = frozenset({"index", "type", "channel", "format", "signature", "status"})
# Keys whose value names something: a repeat of the same value is kept once.
IDENTITY_KEYS = frozenset({"id", "name", "call_id"})


def repair_surrogates(text: str) -> str:
    """Re-pair UTF-16 surrogate halves that arrived in separate fragments (ASSEMBLY §2.9 E12); a half that
    stays alone becomes U+FFFD, so the result can always be written as UTF-8."""
    if _SURROGATE.search(text) is None:
        return text
    paired = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    return _SURROGATE.sub("\ufffd", paired)


def join_text(parts: Iterable[str]) -> str:
    """The fragments joined once (linear), surrogates re-paired."""
    return repair_surrogates("".join(parts))


class Text:
    """A string being concatenated: fragments collected in a list, joined once by `finish`."""

    __slots__ = ("parts",)

    def __init__(self, first: str) -> None:
        self.parts = [first]

    def add(self, fragment: str) -> None:
        self.parts.append(fragment)


class Seq:
    """A list being merged: entries carrying an int `index` merge by index value, the others are appended."""

    __slots__ = ("indexed", "plain")

    def __init__(self) -> None:
        self.indexed: dict[int, dict[str, Any]] = {}
        self.plain: list[Any] = []

    def extend(self, entries: Iterable[Any]) -> None:
        for entry in entries:
            index = entry.get("index") if isinstance(entry, dict) else None
            if isinstance(index, int) and not isinstance(index, bool):
                slot = self.indexed.setdefault(index, {})
                merge_into(slot, entry)
            else:
                self.plain.append(entry)


def _start(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return value if key in LABEL_KEYS or key in IDENTITY_KEYS else Text(value)
    if isinstance(value, dict):
        fresh: dict[str, Any] = {}
        merge_into(fresh, value)
        return fresh
    if isinstance(value, list):
        seq = Seq()
        seq.extend(value)
        return seq
    return value


def merge_field(key: str, current: Any, value: Any) -> Any:
    """The accumulated value of `key` after one more non-null delta value (ASSEMBLY §2.4)."""
    if current is None:
        return _start(key, value)
    if key in LABEL_KEYS:
        return current if value == "" else value
    if isinstance(value, str):
        if isinstance(current, Text):
            current.add(value)
            return current
        if isinstance(current, str):
            if current == value:
                return current
            return value if current == "" else current + value
        return _start(key, value)
    if isinstance(value, dict) and isinstance(current, dict):
        merge_into(current, value)
        return current
    if isinstance(value, list) and isinstance(current, Seq):
        current.extend(value)
        return current
    if isinstance(value, dict | list):
        return _start(key, value)
    return value


def merge_into(acc: dict[str, Any], delta: Mapping[str, Any]) -> None:
    """Merge a delta dict into an accumulator dict; null never creates or overwrites anything."""
    for key, value in delta.items():
        if value is not None:
            acc[key] = merge_field(key, acc.get(key), value)


def finish(value: Any) -> Any:
    """The plain JSON value of an accumulator."""
    if isinstance(value, Text):
        return join_text(value.parts)
    if isinstance(value, dict):
        return {key: finish(item) for key, item in value.items()}
    if isinstance(value, Seq):
        merged = [finish(value.indexed[index]) for index in sorted(value.indexed)]
        return merged + [finish(item) for item in value.plain]
    if isinstance(value, str):
        return repair_surrogates(value)
    return value


def first_set(current: Any, value: Any, *, seen: bool) -> Any:
    """First value, then the first later non-empty one if the first was empty (id, model, created)."""
    if not seen:
        return value
    if (current is None or current == "") and value not in (None, ""):
        return value
    return current


def last_non_empty(current: Any, value: Any) -> Any:
    """The last non-empty value; an empty value only fills a gap."""
    if value not in (None, ""):
        return value
    return value if current is None else current


def set_once(current: str, fragment: str) -> str:
    """A name or id streamed in fragments: set once, the same value again ignored, a different piece appended."""
    if not current:
        return fragment
    if fragment == current or not fragment:
        return current
    return current + fragment


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _either(mapping: Mapping[str, Any], key: str, alias: str | None) -> Any:
    value = mapping.get(key)
    return mapping.get(alias) if value is None and alias is not None else value


class TopLevel:
    """The top-level fields of a chunk stream: `first` ones from the first chunk (or the first later non-empty
    value), `last` ones last non-empty, `latest` ones last non-null; `aliases` maps a camelCase spelling."""

    def __init__(
        self,
        first: tuple[str, ...],
        last: tuple[str, ...] = (),
        latest: tuple[str, ...] = (),
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.first, self.last, self.latest = first, last, latest
        self.aliases = aliases or {}
        self.values: dict[str, Any] = dict.fromkeys((*first, *last, *latest))
        self.unset = first  # the `first` keys still empty: the only ones later chunks are read for
        self.seen = False

    def see(self, chunk: Mapping[str, Any]) -> None:
        values = self.values
        if self.aliases:
            spelled = chunk
            chunk = {key: _either(spelled, key, self.aliases.get(key)) for key in values}
        get = chunk.get
        if self.unset:
            for key in self.unset:
                values[key] = first_set(values[key], get(key), seen=self.seen)
            self.unset = tuple(key for key in self.first if values[key] is None or values[key] == "")
        for key in self.last:
            value = get(key)
            # last_non_empty, inlined (once per chunk): a value replaces, an empty one only fills a gap
            if value is not None and (value != "" or values[key] is None):
                values[key] = value
        for key in self.latest:
            value = get(key)
            if value is not None:
                values[key] = value
        self.seen = True


def choices_by_index(
    chunk: dict[str, Any], choices: dict[int, _Slot], make: Callable[[int], _Slot]
) -> Iterator[tuple[dict[str, Any], _Slot]]:
    """Each choice object of a chunk with its accumulator, keyed by `index` (missing means 0), never by list
    position; a new index gets `make(index)`."""
    raw_choices = chunk.get("choices")
    for raw in raw_choices if isinstance(raw_choices, list) else []:
        if not isinstance(raw, dict):
            continue
        index = as_int(raw.get("index")) or 0
        choice = choices.get(index)
        if choice is None:
            choice = choices[index] = make(index)
        yield raw, choice
