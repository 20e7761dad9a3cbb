"""The prune tiers of cassettes, added to the recordings' prune plan: static (`cassettes.orphans`), collect (the
node ids of `pytest --collect-only`) and usage (the manifests of `pytest -p llm_fixtures.cassettes.usage`: a
cassette whose test passed without loading it, and interactions no passing test played)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llm_fixtures.cassettes.naming import CASSETTE_FOLDERS, name_keys, stem_key, strip_suffix
from llm_fixtures.cassettes.orphans import Verdict, judge_cassettes
from llm_fixtures.safepaths import read_regular

if TYPE_CHECKING:
    from llm_fixtures.cassettes.describing import CassetteFacts
    from llm_fixtures.cassettes.evidence import CassetteUsage
    from llm_fixtures.pruning import CollectedTests, PrunePlan


@dataclass(frozen=True, slots=True)
class Unplayed:
    """A cassette a replay run loaded in which some interactions were never played by a passing test: `unplayed`
    (positions, from 0) of its `count` interactions; `tests` are the tests that loaded or played it."""

    path: str
    unplayed: tuple[int, ...]
    count: int
    tests: tuple[str, ...]


@dataclass(slots=True)
class Tiers:
    """What the collect and usage tiers found besides orphans: cassettes with interactions never played, and
    how many loaded cassettes were not judged because they changed since the run."""

    unplayed: list[Unplayed] = field(default_factory=list)
    changed_since: int = 0
    folders: set[Path] = field(default_factory=set)  # the `cassettes` folders the replay run loaded from


def _test_module(verdict: Verdict, root: Path) -> str | None:
    """The resolved test module of a kept cassette's test, when the static tier named one."""
    if verdict.status != "kept" or not verdict.test_id:
        return None
    return os.path.realpath(root / verdict.test_id.split("::", 1)[0])


def _collect_reason(verdict: Verdict, name: str, collected: CollectedTests, keys: set[tuple[str, str]]) -> str | None:
    """Why a kept cassette is an orphan by the collection: its test function is collected, but no collected
    parametrization has it as its default cassette."""
    if verdict.status != "kept" or not verdict.test_id:
        return None
    function = verdict.test_id.split("[", 1)[0]
    if function not in collected.functions:
        return None  # deselected, or outside the runs: the collection says nothing
    if (verdict.test_id.split("::", 1)[0], stem_key(strip_suffix(name))) in keys:
        return None
    return "parametrization no longer collected"


def _cassettes_folder(path: str) -> Path:
    """The nearest `cassettes` folder above a cassette (resolved path), or its own folder."""
    folder = Path(path).parent
    return next((above for above in [folder, *folder.parents] if above.name in CASSETTE_FOLDERS), folder)


def _sha256(path: str) -> str | None:
    import hashlib

    try:
        return hashlib.sha256(read_regular(path)).hexdigest()
    except OSError:
        return None


def _usage_verdict(
    facts: CassetteFacts, location: str, verdict: Verdict, usage: CassetteUsage, root: Path, tiers: Tiers
) -> str | None:
    """Why a cassette is an orphan by a replay run's evidence (its test passed without loading it), or None;
    a loaded one whose every loading test passed has its never-played interactions noted in `tiers`."""
    from llm_fixtures.cassettes.evidence import REPLAY_MODES

    load = usage.loaded.get(location)
    if load is None:
        module = _test_module(verdict, root)
        if module is None or facts.format != "vcr":
            return None  # not a vcrpy cassette (a WebSocket or gRPC one is read by the project's own fixture)
        if _cassettes_folder(location) not in tiers.folders:
            return None  # the run loaded nothing from this cassettes folder: VCR may not have been on there
        if usage.test_passed(module, stem_key(strip_suffix(facts.name))):
            return "superseded: its test passed without loading it"
        return None
    if load.played is None or not load.tests or not load.modes <= REPLAY_MODES:
        return None
    if not load.tests <= usage.passed_ids:
        return None  # a test that loaded it did not pass: what it would have played is not known
    if load.sha256 != _sha256(location) or load.interactions != facts.interactions:
        tiers.changed_since += 1
        return None
    unplayed = tuple(index for index in range(facts.interactions) if index not in load.played)
    if unplayed:
        tiers.unplayed.append(Unplayed(facts.path, unplayed, facts.interactions, tuple(sorted(load.tests))))
    return None


def add_to_plan(
    plan: PrunePlan,
    cassettes: Sequence[CassetteFacts],
    base: Path,
    root: Path,
    *,
    collected: CollectedTests | None = None,
    usage: CassetteUsage | None = None,
) -> Tiers:
    """The verdicts on `cassettes` (shown relative to `base`) added to a recordings prune plan: orphans to its
    orphans (in the order it keeps: test file, then path), undecided ones to what it leaves alone. The static
    tier always; the collect tier with `collected` (node ids of `pytest --collect-only`); the usage tier with
    `usage` (the manifests of `pytest -p llm_fixtures.cassettes.usage`). What else the tiers found is returned."""
    from llm_fixtures.pruning import Orphan, Undecided

    tiers = Tiers(folders={_cassettes_folder(loaded) for loaded in usage.loaded} if usage is not None else set())
    locations = [os.path.realpath(base / facts.path) for facts in cassettes]
    verdicts = judge_cassettes([(facts.path, str(base / facts.path), facts.bytes) for facts in cassettes], root)
    keys: set[tuple[str, str]] = set()
    if collected is not None:
        keys = {(node_id.split("::", 1)[0], name) for node_id in collected.ids for name in name_keys(node_id)}
    for facts, location, verdict in zip(cassettes, locations, verdicts, strict=True):
        reason, tier = (verdict.reason, "static") if verdict.status == "orphan" else (None, "")
        if reason is None and collected is not None:
            reason, tier = _collect_reason(verdict, facts.name, collected, keys), "collect"
        if reason is None and usage is not None:
            reason, tier = _usage_verdict(facts, location, verdict, usage, root, tiers), "unused"
        if reason is not None:
            orphan = Orphan(path=verdict.path, test_id=verdict.test_id, reason=reason, bytes=verdict.bytes, tier=tier)
            plan.orphans.append(orphan)
        elif verdict.status == "undecided":
            plan.undecided.append(Undecided(path=verdict.path, test_id=verdict.test_id, reason=verdict.reason))
    for name, given in (("collect", collected), ("unused", usage)):
        if given is not None and name not in plan.tiers:
            plan.tiers.append(name)
    plan.scanned += len(cassettes)
    plan.cassettes_scanned += len(cassettes)
    plan.orphans.sort(key=lambda orphan: ((orphan.test_id or "").split("::", 1)[0], orphan.path))
    return tiers
