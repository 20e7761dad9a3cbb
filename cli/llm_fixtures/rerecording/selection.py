"""Which recordings a re-record is about: the references, the filters of `ls`, `--stale` or `--all`, resolved to
the recordings with their parsed content. Unreadable files are returned as one-line problems, not raised."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Selection:
    """The selected recordings in path order, and a `path: what is wrong` line for each file that could not be
    read (in the order found)."""

    chosen: list[Chosen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def select(refs: list[str], filters: Filters, stale: bool, everything: bool, project: Project) -> Selection:
    """The recordings chosen; UsageError when nothing was asked for (re-recording costs money: `--all` says so)."""
    planning.require_choice(refs, filters, stale, everything)
    root = project.root
    paths = resolve_refs(refs, project) if refs else None
    catalog = load_catalog(paths, project, base=root)
    selection = Selection(problems=[str(problem) for problem in catalog.problems])
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
