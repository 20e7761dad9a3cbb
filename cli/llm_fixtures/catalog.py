"""The facts of many recordings at once: loaded in parallel when cold, from a cache keyed by path, size and
mtime when warm; broken files are reported and the rest go on."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_fixtures import __version__
from llm_fixtures.caching import Stamp, cache_file, read_entries, settled, stamp_of, write_entries
from llm_fixtures.cassettes.cataloging import CassetteCatalog, load_cassettes
from llm_fixtures.config import Project
from llm_fixtures.discovery import display_path, select_files
from llm_fixtures.errors import BadRecording
from llm_fixtures.facts import Facts, derive_facts, from_row, is_row, to_row
from llm_fixtures.pooling import map_ordered

CACHE_FORMAT = f"facts-3:{__version__}"


@dataclass
class Catalog:
    """Facts of every recording found (sorted by path), the files that could not be read, and the JSON files
    outside any recordings folder that are not recordings at all (skipped, not errors)."""

    facts: list[Facts] = field(default_factory=list)
    problems: list[BadRecording] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    cassettes: CassetteCatalog = field(default_factory=CassetteCatalog)


# A result of loading one file: ("ok", facts.to_row), ("bad", reason) or ("skip", "").
FileLoad = tuple[str, Any]


def _load_one(path_str: str) -> FileLoad:
    # Imported here: pydantic (behind validate_recording) is paid for only when a file must really be read.
    from llm_fixtures.decoding import check_recording, is_foreign, parse_json
    from llm_fixtures.store import read_bytes

    try:
        data = read_bytes(path_str)
        raw = parse_json(data, path_str)
        if is_foreign(raw, path_str):
            return ("skip", "")
        valid = check_recording(raw, path_str)
        return ("ok", to_row(derive_facts(path_str, len(data), valid)))
    except BadRecording as exc:
        if path_str.endswith(".sse"):
            return ("bad", "a raw SSE capture, not a recording file (`fixtures show --assemble` folds it)")
        return ("bad", exc.reason)
    except RecursionError:
        return ("bad", "not a recording: nested too deeply")


def _cached_load(entry: Any, stamp: Stamp) -> FileLoad | None:
    """The outcome a cache entry holds for a file with this stamp, when the entry is of that shape (the cache
    is data from disk: anything else is a miss)."""
    if type(entry) is not list or len(entry) != 3 or entry[0] != stamp:
        return None
    status, payload = entry[1], entry[2]
    if status == "ok":
        return ("ok", payload) if is_row(payload) else None
    if status == "bad":
        return ("bad", payload) if type(payload) is str else None
    return ("skip", "") if status == "skip" else None


def load_catalog(
    paths: Sequence[Path] | None,
    project: Project,
    *,
    base: Path | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
) -> Catalog:
    """Facts of every recording under `paths` (or the project's default roots). Paths are shown relative to
    `base` (default: the current directory). Raises PathNotFound for a given path that does not exist."""
    base = base or Path.cwd()
    started = time.time_ns()
    selection = select_files(paths, project)
    catalog = Catalog(problems=list(selection.problems))
    store_file = cache_file("facts", project.root)
    cached = read_entries(store_file, CACHE_FORMAT) if use_cache else {}
    fresh: dict[str, Any] = {}
    todo: list[tuple[str, str, Stamp | None]] = []
    found: list[tuple[str, list[Any]]] = []

    def file_loaded(path: str, outcome: FileLoad) -> None:
        status, payload = outcome
        if status == "ok":
            found.append((display_path(path, base), payload))
        elif status == "skip":
            catalog.skipped.append(Path(path))
        else:
            catalog.problems.append(BadRecording(display_path(path, base), payload))

    # Cache keys are absolute paths, made by joining the working folder (abspath per file costs more than the
    # rest of a warm run); a path spelt another way is only a cache miss, never a wrong hit.
    cwd = os.getcwd() + os.sep  # noqa: PTH109
    for path in selection.names:
        absolute = path if path.startswith(os.sep) else cwd + path
        stamp = stamp_of(path)
        outcome = _cached_load(cached.get(absolute), stamp) if stamp is not None else None
        if outcome is not None:
            fresh[absolute] = cached[absolute]
            file_loaded(path, outcome)
            continue
        todo.append((path, absolute, stamp))
    outcomes = list(map_ordered(_load_one, [path for path, _, _ in todo], jobs=jobs))
    unsettled: list[str] = []
    for (path, absolute, stamp), outcome in zip(todo, outcomes, strict=True):
        if stamp is not None and settled(stamp, started):
            fresh[absolute] = [stamp, *outcome]
        else:
            unsettled.append(absolute)
        file_loaded(path, outcome)
    catalog.facts = [from_row(shown, row) for shown, row in found]
    catalog.facts.sort(key=lambda facts: facts.path)
    catalog.problems.sort(key=lambda problem: str(problem.path))
    if use_cache and (todo or len(fresh) != len(cached)):
        merged = {**cached, **fresh} if paths else fresh
        for absolute in unsettled:
            merged.pop(absolute, None)
        write_entries(store_file, CACHE_FORMAT, merged)
    if selection.cassettes:
        catalog.cassettes = load_cassettes(selection.cassettes, project.root, base=base, use_cache=use_cache)
        catalog.problems = sorted([*catalog.problems, *catalog.cassettes.problems], key=lambda p: str(p.path))
    return catalog
