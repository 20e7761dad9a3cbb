"""What `fixtures explain` works with: a replay miss read from a log, the recordings that bear on it, the causes
ranked, the fix. Plain dataclasses (orjson writes them as JSON Lines in field order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Which patched call of the upstream recorder missed (each raises its own message).
MissKind = Literal["inference", "genai", "tool", "rerank", "http", "http-stream"]
# How a recording relates to the test that missed.
Relation = Literal["this-test", "other-model", "other-parametrization", "other-test"]
Cause = Literal[
    "present",
    "stale-name",
    "moved-test",
    "never-recorded",
    "stale-names",
    "drift",
    "model-changed",
    "request-changed",
    "unknown-test",
]


@dataclass(slots=True)
class Miss:
    """One `Recording not found` of a log. `hash` is the full request hash when the log shows it (or, for a tool
    call, computed from the arguments it prints); `hash_prefix` what a cut-off summary line left of it."""

    kind: MissKind
    line: int
    test_id: str | None = None
    hash: str | None = None
    hash_prefix: str | None = None
    model: str | None = None
    method: str | None = None
    url: str | None = None
    endpoint: str | None = None
    tool_kwargs: Any = None
    title: str | None = None  # the failure section it was found in (`test_x[params]`), to name the test by
    frames: list[str] = field(default_factory=list)  # test files of the traceback above it, nearest last
    rejected_test_id: str | None = None  # a node id the log gave that is not safe to use


@dataclass(slots=True)
class Candidate:
    """A recording that bears on a miss: how it relates to the test, what `check` says of its name, and whether
    its content is the request replay looked for (`replays_as`: the rule under which it hashes to the miss)."""

    path: str
    test_id: str | None
    relation: Relation
    model: str | None
    status: str  # the hash check's status: ok, stale, mismatch, unverifiable (or unreadable)
    message: str
    check_cause: str | None = None  # for a mismatch: ogx-rename, renamed
    expected_name: str | None = None  # the name the current rule gives it
    replays_as: str | None = None
    test_gone: str | None = None  # why its test no longer exists (function gone, file gone)


@dataclass(frozen=True, slots=True)
class DriftField:
    """A request field in which near-duplicate recordings of one test differ, and what would make it stable."""

    field: str
    difference: str
    normalization: str


@dataclass(frozen=True, slots=True)
class RankedCause:
    cause: Cause
    reason: str


@dataclass(slots=True)
class Explanation:
    """One miss explained: the JSON Lines object of `fixtures explain --json`."""

    test_id: str | None
    hash: str | None
    endpoint: str | None
    model: str | None
    kind: MissKind
    url: str | None
    line: int
    candidates: list[Candidate]
    cause: Cause
    certain: bool
    reason: str
    causes: list[RankedCause]
    drift: list[DriftField]
    fix: list[str]
    notes: list[str] = field(default_factory=list)
    # The run `fixtures rerecord <test>` makes (when the fix re-records): the setup the preset chose, the command.
    setup: str | None = None
    record_command: str | None = None
