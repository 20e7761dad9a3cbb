"""The facts of many cassettes at once, from a cache keyed by path, size, mtime and ctime when warm (entries checked
before use, files changed within a clock tick never cached); broken cassettes are reported and the rest go on."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, fields
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any, cast

from llm_fixtures import __version__
from llm_fixtures.caching import cache_file, read_entries, settled, stamp_of, write_entries
from llm_fixtures.cassettes.describing import CassetteFacts, InteractionFacts, describe_cassette, describe_interactions
from llm_fixtures.errors import BadRecording
from llm_fixtures.filtering import Filters, GroupKey, group, group_value, keep
from llm_fixtures.pooling import map_ordered

CACHE_FORMAT = f"cassettes-4:{__version__}"
_CASSETTE_FIELDS = tuple(item.name for item in fields(CassetteFacts))
_ROW_FIELDS = tuple(item.name for item in fields(InteractionFacts))


@dataclass
class CassetteCatalog:
    """Facts of every cassette (sorted by path), of every interaction in them, and the cassettes that could not
    be read."""

    cassettes: list[CassetteFacts] = field(default_factory=list)
    interactions: list[InteractionFacts] = field(default_factory=list)
    problems: list[BadRecording] = field(default_factory=list)


def _to_row(facts: Any, names: tuple[str, ...]) -> list[Any]:
    return [getattr(facts, name) for name in names[1:]]  # without the path: it depends on where it is shown from


def _cassette_of(path: str, row: list[Any]) -> CassetteFacts:
    values = dict(zip(_CASSETTE_FIELDS[1:], row, strict=True))
    for name in ("endpoints", "models", "providers"):
        values[name] = tuple(values[name])
    return CassetteFacts(path=path, **values)


def _interaction_of(path: str, row: list[Any]) -> InteractionFacts:
    return InteractionFacts(path, *row)


def _load_one(job: tuple[str, str]) -> tuple[str, Any]:
    """The facts of the cassette at `path`, its tests named from `label` (its path from the project root)."""
    from llm_fixtures.cassettes.reading import read_cassette  # PyYAML is imported only when a cassette is read

    path, label = job
    try:
        cassette, size = read_cassette(path, label)
    except BadRecording as exc:
        return ("bad", exc.reason)
    rows = describe_interactions(cassette)
    facts = describe_cassette(cassette, size, rows)
    return ("ok", [_to_row(facts, _CASSETTE_FIELDS), [_to_row(row, _ROW_FIELDS) for row in rows]])


def _shown(path: str, base: str) -> str:
    prefix = base.rstrip(os.sep) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else path


def load_cassettes(
    names: list[str], root: Path, *, base: Path | None = None, use_cache: bool = True
) -> CassetteCatalog:
    """Facts of the cassettes `names` (as discovery found them), shown relative to `base` (the current folder);
    `root` (the project) names the cache file."""
    shown_base = str(base or Path.cwd())
    started = time.time_ns()
    catalog = CassetteCatalog()
    store_file = cache_file("cassettes", root)
    cached = read_entries(store_file, CACHE_FORMAT) if use_cache and names else {}
    fresh: dict[str, Any] = {}
    cwd = os.getcwd() + os.sep  # noqa: PTH109
    stamps = [(path, path if path.startswith(os.sep) else cwd + path, stamp_of(path)) for path in names]
    # The tests a cassette names are read from its path in the project (as pytest's node ids are).
    todo = [
        (path, _shown(absolute, str(root)))
        for path, absolute, stamp in stamps
        if not _usable(cached.get(absolute), stamp)
    ]
    loaded = dict(zip((path for path, _label in todo), map_ordered(_load_one, todo), strict=True))
    for path, absolute, stamp in stamps:
        entry: Any = cached.get(absolute)
        status, payload = loaded[path] if path in loaded else (entry[1], entry[2])
        # A file changed within a tick of the filesystem's clock may change again under the same stamp: such a
        # file is read again next time (caching.settled).
        if stamp is not None and (path not in loaded or settled(stamp, started)):
            fresh[absolute] = [stamp, status, payload]
        else:
            cached.pop(absolute, None)
        shown = _shown(path, shown_base)
        if status == "ok":
            catalog.cassettes.append(_cassette_of(shown, payload[0]))
            catalog.interactions.extend(_interaction_of(shown, row) for row in payload[1])
        else:
            catalog.problems.append(BadRecording(shown, str(payload)))
    catalog.cassettes.sort(key=lambda facts: facts.path)
    catalog.interactions.sort(key=lambda row: (row.path, row.interaction))
    if use_cache and names and (todo or len(fresh) != len(cached)):
        write_entries(store_file, CACHE_FORMAT, {**cached, **fresh})
    return catalog


def _usable(entry: Any, stamp: list[int] | None) -> bool:
    """Whether a cache entry was made for the file as it is now (a file that cannot be stat'ed is read again),
    and has the shape `_load_one` gives: the cache is data from disk, and anything else is read again."""
    if stamp is None or type(entry) is not list or len(entry) != 3 or entry[0] != stamp:
        return False
    status, payload = entry[1], entry[2]
    if status == "bad":
        return type(payload) is str
    return (
        status == "ok"
        and type(payload) is list
        and len(payload) == 2
        and _is_row(payload[0], _cassette_signatures())
        and all(type(item) is str for index in _LIST_FIELDS for item in payload[0][index])
        and type(payload[1]) is list
        and all(_is_row(row, _interaction_signatures()) for row in payload[1])
    )


_NONE = type(None)
_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "str | None": (str, _NONE),
    "int": (int,),
    "int | None": (int, _NONE),
    "bool": (bool,),
    "tuple[str, ...]": (list,),  # a tuple is cached as a list
}
# The positions (in a cached cassette row, without the path) of the fields that hold lists of strings.
_LIST_FIELDS = tuple(i for i, item in enumerate(fields(CassetteFacts)[1:]) if item.type == "tuple[str, ...]")


@lru_cache(maxsize=1)
def _cassette_signatures() -> frozenset[tuple[type, ...]]:
    return frozenset(product(*(_TYPES[str(item.type)] for item in fields(CassetteFacts)[1:])))


@lru_cache(maxsize=1)
def _interaction_signatures() -> frozenset[tuple[type, ...]]:
    return frozenset(product(*(_TYPES[str(item.type)] for item in fields(InteractionFacts)[1:])))


def _is_row(value: Any, signatures: frozenset[tuple[type, ...]]) -> bool:
    """Whether `value` is a list of exactly a row's fields, each of its type (one set lookup of the types)."""
    return type(value) is list and tuple(map(type, value)) in signatures


def select_cassettes(catalog: CassetteCatalog, filters: Filters) -> list[CassetteFacts]:
    """The cassettes one of whose interactions passes `ls`'s filters (every cassette when none is given)."""
    if filters == Filters():
        return list(catalog.cassettes)
    kept = {row.path for row in catalog.interactions if keep(cast(Any, row), filters)}
    return [facts for facts in catalog.cassettes if facts.path in kept]


def select_interactions(catalog: CassetteCatalog, filters: Filters) -> list[InteractionFacts]:
    # `keep` reads attributes by name; an interaction's facts carry every one it reads (see InteractionFacts).
    return [row for row in catalog.interactions if keep(cast(Any, row), filters)]


@dataclass(frozen=True, slots=True)
class CassetteGroup:
    """One line of `ls --group-by` over cassettes: how many cassettes (`of` "cassettes") or interactions (`of`
    "interactions") and bytes share a value."""

    group_by: str
    key: str | None
    count: int
    bytes: int
    of: str


# The cassette fields that hold every value of a grouping key (a cassette talks to several endpoints or models).
_EVERY = {GroupKey.endpoint: "endpoints", GroupKey.model: "models", GroupKey.provider: "providers"}


def group_cassettes(
    catalog: CassetteCatalog, filters: Filters, key: GroupKey, *, interactions: bool
) -> list[CassetteGroup]:
    """Counts and bytes per value of `key`, largest first, ties by value: of the interactions that pass the
    filters (`interactions`), or of the cassettes, each counted once under every endpoint, model or provider its
    interactions have (so those counts may add up to more than the cassettes), once under `(none)` without."""
    if interactions:
        rows = select_interactions(catalog, filters)
        return [
            CassetteGroup(found.group_by, found.key, found.count, found.bytes, "interactions")
            for found in group(cast(Any, rows), key)
        ]
    counts: dict[str | None, list[int]] = {}
    for facts in select_cassettes(catalog, filters):
        every = _EVERY.get(key)
        values: tuple[str | None, ...] = getattr(facts, every) if every else (group_value(cast(Any, facts), key),)
        for value in values or (None,):
            slot = counts.setdefault(value or None, [0, 0])
            slot[0] += 1
            slot[1] += facts.bytes
    found = [CassetteGroup(key.value, value, c, b, "cassettes") for value, (c, b) in counts.items()]
    return sorted(found, key=lambda item: (-item.bytes, item.key or ""))
