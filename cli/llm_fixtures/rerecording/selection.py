"""Which recordings a re-record is about: the references, the filters of `ls`, `--stale` or `--all`, resolved to
the recordings with their parsed content, and the node ids of tests that have no recording yet. Unreadable files
are returned as one-line problems, not raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_fixtures.catalog import load_catalog
from llm_fixtures.config import Project
from llm_fixtures.errors import BadRecording
from llm_fixtures.facts import Facts
from llm_fixtures.filtering import Filters
from llm_fixtures.rerecording import plan as planning
from llm_fixtures.resolving import resolve_refs
from llm_fixtures.store import load_recording

Chosen = tuple[Facts, dict[str, Any]]


@dataclass(slots=True)
class Resolved:
    """The references resolved once: the files they name (None when no reference was given: the filters choose
    among every recording), the node ids that name no recording (tests not recorded yet), and a `path: what is
    wrong` line for each file of a folder given that could not be read."""

    paths: list[Path] | None = None
    unrecorded: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Selection:
    """The selected recordings in path order, the node ids of selected tests that have no recording, and a
    `path: what is wrong` line for each file that could not be read (in the order found)."""

    chosen: list[Chosen] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def resolve(refs: list[str], project: Project) -> Resolved:
    """The references resolved (NoMatch, AmbiguousRef as `resolve_refs` raises them, but for a node id that names
    no recording, which is kept as a test to record)."""
    if not refs:
        return Resolved()
    bad: list[BadRecording] = []
    unrecorded: list[str] = []
    paths = resolve_refs(refs, project, problems=bad, unmatched=unrecorded)
    return Resolved(paths, unrecorded, [str(problem) for problem in bad])


def select(resolved: Resolved, filters: Filters, stale: bool, project: Project) -> Selection:
    """The recordings chosen (of the resolved references, or of every recording when none was given)."""
    root = project.root
    selection = Selection(unrecorded=list(resolved.unrecorded), problems=list(resolved.problems))
    # References that resolved to no file (a folder of unreadable files, or only tests not recorded yet) choose
    # nothing: the catalog of no path would be every recording of the project.
    if resolved.paths is not None and not resolved.paths:
        return selection
    catalog = load_catalog(resolved.paths, project, base=root)
    selection.problems.extend(str(problem) for problem in catalog.problems)
    for facts in planning.select_facts(catalog.facts, filters):
        try:
            loaded = load_recording(root / facts.path, facts.path)
        except BadRecording as exc:
            selection.problems.append(str(exc))
            continue
        if stale and not planning.is_stale(loaded.facts.name, loaded.raw):
            continue
        selection.chosen.append((loaded.facts, loaded.raw))
    return selection
