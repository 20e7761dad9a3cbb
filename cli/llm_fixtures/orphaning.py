"""Prune's shell: gathers from disk what the planner judges by (the catalog, the test files, pytest collections,
usage manifests, names replay cannot look up), makes the plan, and removes its orphans reversibly."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llm_fixtures.catalog import load_catalog
from llm_fixtures.errors import BadRecording, UsageError
from llm_fixtures.pruning import CollectedTests, PrunePlan, UsageEvidence, candidates_of, plan_prune
from llm_fixtures.testfiles import TestFiles

if TYPE_CHECKING:
    from llm_fixtures.cassettes.evidence import CassetteUsage
    from llm_fixtures.cassettes.pruneplan import Tiers
    from llm_fixtures.config import Project
    from llm_fixtures.facts import Facts
    from llm_fixtures.trashing import TrashBatch


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the tiers beyond the static one judge by: which of them run, and their inputs."""

    collect: bool = False  # run `[tool.fixtures.prune] collect` (from its cache unless `refresh`)
    refresh: bool = False
    unused_from: tuple[Path, ...] = ()  # usage manifests of replay runs
    unreachable: bool = False
    include_shared: bool = False


@dataclass(slots=True)
class Removal:
    """What removing the orphans did: the batch moved or deleted, and the files refused (path -> why)."""

    batch: TrashBatch
    refused: dict[Path, str] = field(default_factory=dict)


def unreachable_names(facts: Sequence[Facts], base: Path, include_shared: bool) -> dict[str, str]:
    """`path -> reason` for recordings whose name the recorder can never look up (`check`'s stale or
    mismatch); model lists are never judged by their name (replay globs them)."""
    from llm_fixtures.decoding import parse_json
    from llm_fixtures.hashing import verify_name
    from llm_fixtures.store import read_bytes

    found: dict[str, str] = {}
    for fact in facts:
        if fact.model_list or (not fact.test_id and not include_shared):
            continue
        try:
            raw = parse_json(read_bytes(base / fact.path), fact.path)
            if not isinstance(raw, dict):
                continue
            verdict = verify_name(fact.name, raw)
        except (BadRecording, RecursionError):
            continue
        if verdict.status in ("stale", "mismatch"):
            wanted = f" (replay looks for {verdict.expected_name[:12]}…)" if verdict.expected_name else ""
            found[fact.path] = f"unreachable: {verdict.status} name{wanted}"
    return found


def _collected(project: Project, refresh: bool) -> CollectedTests:
    from llm_fixtures.collecting import collect
    from llm_fixtures.safepaths import confined

    settings = project.settings.prune
    where = f"{project.pyproject}: [tool.fixtures.prune] collect_cwd"
    cwd = confined(settings.collect_cwd, project.root, what=where) if settings.collect_cwd else project.root
    if not cwd.is_dir():
        raise UsageError(f"[tool.fixtures.prune] collect_cwd: {cwd} is not a folder")
    return CollectedTests.of(collect(settings.collect, cwd, use_cache=not refresh).ids)


def find_orphans(
    paths: Sequence[Path] | None, project: Project, evidence: Evidence, *, base: Path
) -> tuple[PrunePlan, list[str], Tiers | None]:
    """The prune plan of the recordings and cassettes under `paths` (default: the project's), shown relative to
    `base`; the files that could not be read (`path: what is wrong`); and what the cassettes' collect and usage
    tiers found besides orphans (None without cassettes)."""
    usage: UsageEvidence | None = None
    cassette_usage: CassetteUsage | None = None
    if evidence.unused_from:
        from llm_fixtures.cassettes.evidence import read_cassette_manifests, split_manifests
        from llm_fixtures.usage import read_manifests

        recording_manifests, cassette_manifests = split_manifests(evidence.unused_from)
        usage = read_manifests(recording_manifests, project.root) if recording_manifests else None
        cassette_usage = read_cassette_manifests(cassette_manifests, project.root) if cassette_manifests else None
    collected = _collected(project, evidence.refresh) if evidence.collect else None
    catalog = load_catalog(paths, project, base=base)
    test_files = TestFiles(project.root, use_cache=True)
    locate = os.path.realpath if usage is not None else None
    candidates = candidates_of(catalog.facts, str(base), test_files.key_for, locate)
    test_files.save(complete=not paths)
    unreachable = unreachable_names(catalog.facts, base, evidence.include_shared) if evidence.unreachable else None
    plan = plan_prune(
        candidates,
        test_files.indexes,
        collected=collected,
        usage=usage,
        unreachable=unreachable,
        include_shared=evidence.include_shared,
    )
    tiers = None
    if catalog.cassettes.cassettes:
        from llm_fixtures.cassettes.pruneplan import add_to_plan

        cassettes = catalog.cassettes.cassettes
        tiers = add_to_plan(plan, cassettes, base, project.root, collected=collected, usage=cassette_usage)
    return plan, [str(problem) for problem in catalog.problems], tiers


def remove_orphans(plan: PrunePlan, project: Project, *, base: Path) -> Removal:
    """Remove the plan's orphans (paths relative to `base`) reversibly: git restores what it tracks, the rest goes
    to the trash. A file `trashing` refuses to touch stays, with the reason."""
    from llm_fixtures.trashing import refusals, remove_reversibly

    targets = [base / orphan.path for orphan in plan.orphans]
    refused = refusals(targets, project.root)
    batch = remove_reversibly([path for path in targets if path not in refused], project.root)
    return Removal(batch, refused)
