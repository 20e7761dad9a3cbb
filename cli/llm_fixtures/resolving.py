"""Reference resolution: a path, a hash or unique hash prefix, or a pytest node id, to recording files."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from llm_fixtures.cassettes.describing import CassetteFacts
from llm_fixtures.catalog import load_catalog
from llm_fixtures.config import Project
from llm_fixtures.errors import AmbiguousRef, BadRecording, NoMatch, UsageError
from llm_fixtures.facts import Facts
from llm_fixtures.filtering import is_node_id, matches_node_id

MIN_PREFIX = 6
_HEX = re.compile(r"[0-9a-fA-F]+")


def _by_hash(ref: str, facts: Sequence[Facts]) -> list[Facts]:
    """Recordings whose file name is `ref`, else whose hash starts with it (at least 6 hex digits)."""
    stem = ref.removesuffix(".json")
    exact = [f for f in facts if f.name.removesuffix(".json") == stem]
    if exact or not _HEX.fullmatch(stem):
        return exact
    if len(stem) < MIN_PREFIX:
        raise UsageError(f"{ref!r} is too short for a hash prefix: give at least {MIN_PREFIX} hex digits")
    prefix = stem.lower()
    return [f for f in facts if f.hash.lower().startswith(prefix)]


def _resolve_one(ref: str, facts: Sequence[Facts], cassettes: Sequence[CassetteFacts] = ()) -> list[Path]:
    """The recordings (and cassettes: by node id, or by file name) `ref` names."""
    hits: list[Facts | CassetteFacts]
    if is_node_id(ref):
        everything: list[Facts | CassetteFacts] = [*facts, *cassettes]
        hits = [f for f in everything if matches_node_id(f.test_id, ref)]
        hits.sort(key=lambda f: (f.test_id or "", f.path))
    else:
        by_name = [c for c in cassettes if c.name == ref]
        hits = [*by_name] if by_name else sorted(_by_hash(ref, facts), key=lambda f: f.path)
        # Several files of one request (the same name in several folders, the model lists of one request)
        # are all shown: only a prefix of several hashes, or a cassette name shared by several, is ambiguous.
        if len({h.hash.lower() if isinstance(h, Facts) else h.path for h in hits}) > 1:
            raise AmbiguousRef(ref, sorted(h.path for h in hits))
    if not hits:
        raise NoMatch(ref)
    return [Path(f.path) for f in hits]


def each_ref(
    refs: Sequence[str],
    project: Project,
    paths: Sequence[Path] | None = None,
    *,
    unmatched: list[str] | None = None,
) -> Iterator[tuple[str, list[Path] | None]]:
    """Each reference with the files it names, in the order given: an existing file itself, the recordings a
    hash, prefix or node id names (searched under `paths`, or the project's default roots; the catalog is built
    once, on the first such reference), or None for an existing folder, which the caller lists as it needs.
    Raises NoMatch, AmbiguousRef, UsageError; a node id that names no recording goes to `unmatched` when it is
    given (yielded with no file: a test not recorded yet)."""
    facts: list[Facts] | None = None
    cassettes: list[CassetteFacts] = []
    for ref in refs:
        if not ref.strip():
            raise UsageError("an empty reference names nothing: give a path, a hash prefix or a test id")
        candidate = Path(ref)
        # A FIFO, a device or a socket is named as a file too: the reader says what it is, rather than a search
        # of the catalog saying that no recording matches.
        if not is_node_id(ref) and candidate.exists() and not candidate.is_dir():
            yield ref, [candidate]
            continue
        if not is_node_id(ref) and candidate.is_dir():
            yield ref, None
            continue
        if facts is None:
            catalog = load_catalog(paths, project)
            facts, cassettes = catalog.facts, catalog.cassettes.cassettes
        try:
            yield ref, _resolve_one(ref, facts, cassettes)
        except NoMatch:
            if unmatched is None or not is_node_id(ref):
                raise
            unmatched.append(ref)
            yield ref, []


def resolve_refs(
    refs: Sequence[str],
    project: Project,
    paths: Sequence[Path] | None = None,
    *,
    problems: list[BadRecording] | None = None,
    unmatched: list[str] | None = None,
) -> list[Path]:
    """The recording files the references name, in the order given (duplicates once). A reference is an
    existing path (a file, or a folder: every recording in it); a hash or a unique prefix of at least 6 hex
    digits (or a whole file name); a pytest node id (with `::`, or a test file), meaning every recording of
    that test, or of every parametrization of a node given without parameters, in a stable order.
    Recordings are searched under `paths`, or the project's default roots. Raises NoMatch, AmbiguousRef.
    The files of a folder given that cannot be read are added to `problems` when it is given; node ids that name
    no recording to `unmatched` when it is given (instead of raising NoMatch: a test not recorded yet)."""
    found: list[Path] = []
    for ref, named in each_ref(refs, project, paths, unmatched=unmatched):
        if named is not None:
            found.extend(named)
            continue
        folder = load_catalog([Path(ref)], project)
        if problems is not None:
            problems.extend(folder.problems)
        if not folder.facts and not folder.cassettes.cassettes and not (problems is not None and folder.problems):
            raise NoMatch(ref)
        found.extend(Path(f.path) for f in folder.facts)
        found.extend(Path(c.path) for c in folder.cassettes.cassettes)
    return list(dict.fromkeys(found))
