"""Which recordings are orphans, by tier (static, collected, unused, unreachable), and why: the prune plan.

Pure: judges what `orphaning` gathered from disk. Plain dataclasses, not pydantic models: a warm `prune` would spend
a third of its time importing pydantic for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.facts import Facts, split_test_id
from llm_fixtures.testindex import TestFileIndex, lookup


@dataclass(frozen=True, slots=True)
class Candidate:
    """A readable recording as the planner sees it. `test_key` names its test file in the index map (None when
    there is no test id); `location` is its resolved absolute path (for usage manifests)."""

    path: str
    test_id: str | None
    test_key: str | None
    function: str | None
    model_list: bool
    bytes: int
    location: str = ""


@dataclass(frozen=True, slots=True)
class CollectedTests:
    """The union of the node ids of `pytest --collect-only` runs, and the functions they cover (`file::function`
    without parameters). A function none of whose ids was collected was deselected (`-k`, `-m`) or lies outside
    the runs: the collection says nothing about it, and the static tier judges it."""

    ids: frozenset[str]
    functions: frozenset[str]

    @classmethod
    def of(cls, ids: Iterable[str]) -> CollectedTests:
        node_ids = frozenset(ids)
        return cls(node_ids, frozenset(node_id.split("[", 1)[0] for node_id in node_ids))


@dataclass(frozen=True, slots=True)
class UsageEvidence:
    """From a replay run: the tests that passed, and every recording file (resolved absolute path) opened."""

    passed: frozenset[str]
    opened: frozenset[str]
    folders: frozenset[str] = frozenset()  # the folders of `opened`

    @classmethod
    def of(cls, passed: Iterable[str], opened: Iterable[str]) -> UsageEvidence:
        paths = frozenset(opened)
        return cls(frozenset(passed), paths, frozenset(path.rpartition(os.sep)[0] for path in paths))

    def folder_read(self, location: str) -> bool:
        """Whether the run read any recording in the folder of `location`: a run that never went there says
        nothing about the shared recordings it holds."""
        return location.rpartition(os.sep)[0] in self.folders


@dataclass(frozen=True, slots=True)
class Orphan:
    """A recording nothing will read again, why, and the tier that found it."""

    path: str
    test_id: str | None
    reason: str
    bytes: int
    tier: str = "static"

    def json_document(self) -> dict[str, Any]:
        """Its line of `prune --json` (the tier is not part of it)."""
        return {"path": self.path, "test_id": self.test_id, "reason": self.reason, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class Undecided:
    """A recording whose test could not be looked at; never an orphan."""

    path: str
    test_id: str | None
    reason: str
    kind: str = "undecidable"  # or the test file's index status: unsafe, unparsable, unreadable


@dataclass(slots=True)
class PrunePlan:
    """The result of `plan_prune`: orphans sorted by test file then path, and what was left alone."""

    orphans: list[Orphan] = field(default_factory=list)
    undecided: list[Undecided] = field(default_factory=list)
    scanned: int = 0
    cassettes_scanned: int = 0  # of `scanned`
    shared: int = 0
    tiers: list[str] = field(default_factory=list)

    @property
    def orphan_bytes(self) -> int:
        return sum(orphan.bytes for orphan in self.orphans)


def candidates_of(
    facts: Sequence[Facts],
    base: str,
    key_for: Callable[[str, str], str],
    locate: Callable[[str], str] | None = None,
) -> list[Candidate]:
    """The planner's view of each recording. `facts` paths are shown relative to `base`; `key_for(absolute
    recording path, test file)` names the test file's index; `locate` resolves a path (for usage evidence)."""
    candidates = []
    for fact in facts:
        # Plain strings, not Path objects: this runs for every recording of the project.
        absolute = fact.path if os.path.isabs(fact.path) else f"{base}{os.sep}{fact.path}"  # noqa: PTH117
        key = key_for(absolute, fact.test_file) if fact.test_id and fact.test_file else None
        candidates.append(
            Candidate(
                path=fact.path,
                test_id=fact.test_id or None,
                test_key=key,
                function=fact.test_function,
                model_list=fact.model_list,
                bytes=fact.bytes,
                location=locate(absolute) if locate is not None else absolute,
            )
        )
    return candidates


def group_key(orphan: Orphan | Undecided) -> str:
    """The test file an orphan is grouped under in the listing."""
    test_file, _ = split_test_id(orphan.test_id)
    return test_file or "(no test id)"


def _static(candidate: Candidate, indexes: Mapping[str, TestFileIndex]) -> tuple[str, str, str]:
    """("orphan"|"keep"|"unknown", reason, kind of unknown) from the test file's syntax tree."""
    assert candidate.test_key is not None
    index = indexes.get(candidate.test_key)
    if index is None:
        return "unknown", "test file not looked at", "unreadable"
    kind = index.status if index.status not in ("parsed", "missing") else "undecidable"
    if index.status == "unsafe":
        return "unknown", index.detail, kind
    presence, reason = lookup(index, candidate.function)
    if presence == "absent":
        return "orphan", reason, ""
    if presence == "unknown":
        return "unknown", reason, kind
    return "keep", "", ""


def _collected(candidate: Candidate, collected: CollectedTests) -> str | None:
    test_id = candidate.test_id
    assert test_id is not None
    if test_id in collected.ids or test_id.split("[", 1)[0] not in collected.functions:
        return None  # still collected, or a function the runs did not cover
    return "parametrization no longer collected"


def plan_prune(
    candidates: Sequence[Candidate],
    indexes: Mapping[str, TestFileIndex],
    *,
    collected: CollectedTests | None = None,
    usage: UsageEvidence | None = None,
    unreachable: Mapping[str, str] | None = None,
    include_shared: bool = False,
) -> PrunePlan:
    """Judge every candidate. The static tier always runs; the others when their evidence is given.

    Never orphans: a recording without a test id unless `include_shared` (then only `usage` and `unreachable`
    can judge it); a model list unless its test file or function is gone (replay merges every model list);
    a test function none of whose ids the collection listed; anything whose test file could not be read or parsed.
    """
    tiers = ["static"]
    tiers += ["collect"] if collected is not None else []
    tiers += ["unused"] if usage is not None else []
    tiers += ["unreachable"] if unreachable is not None else []
    plan = PrunePlan(scanned=len(candidates), tiers=tiers)
    for candidate in candidates:
        orphan = _judge(candidate, indexes, collected, usage, unreachable, include_shared, plan)
        if orphan is not None:
            plan.orphans.append(orphan)
    plan.orphans.sort(key=lambda orphan: (group_key(orphan), orphan.path))
    plan.undecided.sort(key=lambda item: (group_key(item), item.path))
    return plan


def _judge(
    candidate: Candidate,
    indexes: Mapping[str, TestFileIndex],
    collected: CollectedTests | None,
    usage: UsageEvidence | None,
    unreachable: Mapping[str, str] | None,
    include_shared: bool,
    plan: PrunePlan,
) -> Orphan | None:
    def orphan(reason: str, tier: str) -> Orphan:
        return Orphan(path=candidate.path, test_id=candidate.test_id, reason=reason, bytes=candidate.bytes, tier=tier)

    if candidate.test_id is None or candidate.test_key is None:
        plan.shared += 1
        if not include_shared:
            return None
        if unreachable is not None and candidate.path in unreachable:
            return orphan(unreachable[candidate.path], "unreachable")
        if usage is not None and candidate.location not in usage.opened and usage.folder_read(candidate.location):
            return orphan("shared recording never read during the replay run", "unused")
        return None
    verdict, reason, kind = _static(candidate, indexes)
    if verdict == "orphan":
        return orphan(reason, "static")
    if verdict == "unknown":
        plan.undecided.append(Undecided(path=candidate.path, test_id=candidate.test_id, reason=reason, kind=kind))
        return None
    if candidate.model_list:
        return None
    if collected is not None:
        collect_reason = _collected(candidate, collected)
        if collect_reason is not None:
            return orphan(collect_reason, "collect")
    if usage is not None and candidate.test_id in usage.passed and candidate.location not in usage.opened:
        return orphan("superseded: its test passed without reading it", "unused")
    if unreachable is not None and candidate.path in unreachable:
        return orphan(unreachable[candidate.path], "unreachable")
    return None
