"""The facts of many cassettes at once, from a cache keyed by path, size, mtime and ctime when warm; broken cassettes
are reported and the rest go on."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, cast

from llm_fixtures import __version__
from llm_fixtures.caching import cache_dir, read_entries, write_entries
from llm_fixtures.cassettes.describing import CassetteFacts, InteractionFacts, describe_cassette, describe_interactions
from llm_fixtures.errors import BadRecording
from llm_fixtures.filtering import Filters, keep

CACHE_FORMAT = f"cassettes-1:{__version__}"
_CASSETTE_FIELDS = tuple(item.name for item in fields(CassetteFacts))
_ROW_FIELDS = tuple(item.name for item in fields(InteractionFacts))


@dataclass
class CassetteCatalog:
    """Facts of every cassette (sorted by path), of every interaction in them, and the cassettes that could not
    be read."""

    cassettes: list[CassetteFacts] = field(default_factory=list)
    interactions: list[InteractionFacts] = field(default_factory=list)
    problems: list[BadRecording] = field(default_factory=list)


def _cache_file(root: Path) -> Path:
    text = str(root).encode()
    return cache_dir() / f"cassettes-{zlib.crc32(text):08x}{zlib.adler32(text):08x}.json"


def _to_row(facts: Any, names: tuple[str, ...]) -> list[Any]:
    return [getattr(facts, name) for name in names[1:]]  # without the path: it depends on where it is shown from


def _cassette_of(path: str, row: list[Any]) -> CassetteFacts:
    values = dict(zip(_CASSETTE_FIELDS[1:], row, strict=True))
    for name in ("endpoints", "models", "providers"):
        values[name] = tuple(values[name])
    return CassetteFacts(path=path, **values)


def _interaction_of(path: str, row: list[Any]) -> InteractionFacts:
    return InteractionFacts(path, *row)


def _load_one(path: str) -> tuple[str, Any]:
    from llm_fixtures.cassettes.reading import read_cassette  # PyYAML is imported only when a cassette is read

    try:
        cassette, size = read_cassette(path)
    except BadRecording as exc:
        return ("bad", exc.reason)
    rows = describe_interactions(cassette)
    facts = describe_cassette(cassette, size, rows)
    return ("ok", [_to_row(facts, _CASSETTE_FIELDS), [_to_row(row, _ROW_FIELDS) for row in rows]])


# Below this many cassettes to read, a process pool costs more than it saves (as for recordings).
PARALLEL_THRESHOLD = 200


def _load_chunk(paths: list[str]) -> list[tuple[str, Any]]:
    return [_load_one(path) for path in paths]


def _load_all(paths: list[str]) -> list[tuple[str, Any]]:
    """Every cassette read, in order; spread over up to 4 processes when there are many."""
    jobs = min(4, os.cpu_count() or 1)
    if jobs <= 1 or len(paths) < PARALLEL_THRESHOLD:
        return _load_chunk(paths)
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, len(paths) // (jobs * 4))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return [outcome for part in pool.map(_load_chunk, chunks) for outcome in part]


def _shown(path: str, base: str) -> str:
    prefix = base.rstrip(os.sep) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else path


def load_cassettes(
    names: list[str], root: Path, *, base: Path | None = None, use_cache: bool = True
) -> CassetteCatalog:
    """Facts of the cassettes `names` (as discovery found them), shown relative to `base` (the current folder);
    `root` (the project) names the cache file."""
    shown_base = str(base or Path.cwd())
    catalog = CassetteCatalog()
    cache_file = _cache_file(root)
    cached = read_entries(cache_file, CACHE_FORMAT) if use_cache and names else {}
    fresh: dict[str, Any] = {}
    cwd = os.getcwd() + os.sep  # noqa: PTH109
    stamps: list[tuple[str, str, list[int] | None]] = []
    for path in names:
        absolute = path if path.startswith(os.sep) else cwd + path
        try:
            info = os.stat(path)  # noqa: PTH116
            stamps.append((path, absolute, [info.st_size, info.st_mtime_ns, info.st_ctime_ns]))
        except OSError:
            stamps.append((path, absolute, None))
    todo = [path for path, absolute, stamp in stamps if not _fresh(cached.get(absolute), stamp)]
    loaded = dict(zip(todo, _load_all(todo), strict=True))
    for path, absolute, stamp in stamps:
        entry: Any = cached.get(absolute)
        status, payload = loaded[path] if path in loaded else (entry[1], entry[2])
        if stamp is not None:
            fresh[absolute] = [stamp, status, payload]
        shown = _shown(path, shown_base)
        if status == "ok":
            catalog.cassettes.append(_cassette_of(shown, payload[0]))
            catalog.interactions.extend(_interaction_of(shown, row) for row in payload[1])
        else:
            catalog.problems.append(BadRecording(shown, str(payload)))
    changed = bool(todo)
    catalog.cassettes.sort(key=lambda facts: facts.path)
    catalog.interactions.sort(key=lambda row: (row.path, row.interaction))
    if use_cache and names and (changed or len(fresh) != len(cached)):
        write_entries(cache_file, CACHE_FORMAT, {**cached, **fresh})
    return catalog


def _fresh(entry: Any, stamp: list[int] | None) -> bool:
    """Whether a cache entry was made for the file as it is now (a file that cannot be stat'ed is read again)."""
    return stamp is not None and isinstance(entry, list) and len(entry) == 3 and entry[0] == stamp


def select_cassettes(catalog: CassetteCatalog, filters: Filters) -> list[CassetteFacts]:
    """The cassettes one of whose interactions passes `ls`'s filters (every cassette when none is given)."""
    if filters == Filters():
        return list(catalog.cassettes)
    kept = {row.path for row in catalog.interactions if keep(cast(Any, row), filters)}
    return [facts for facts in catalog.cassettes if facts.path in kept]


def select_interactions(catalog: CassetteCatalog, filters: Filters) -> list[InteractionFacts]:
    # `keep` reads attributes by name; an interaction's facts carry every one it reads (see InteractionFacts).
    return [row for row in catalog.interactions if keep(cast(Any, row), filters)]
