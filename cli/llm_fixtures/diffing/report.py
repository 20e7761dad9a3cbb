"""What `fixtures diff` reports: a pair of recordings, its status, its classes of change and their details."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args

import orjson

ChangeClass = Literal[
    "volatile",
    "chunking",
    "name",
    "type",
    "streaming",
    "content",
    "reasoning",
    "tool_calls",
    "finish_reason",
    "usage",
    "models",
    "metadata",
    "request",
    "model",
    "endpoint",
    "url",
    "error",
]
CLASSES: tuple[ChangeClass, ...] = get_args(ChangeClass)
# Changes that leave what replay returns, and whether it finds the file, as they were.
NOISE: frozenset[str] = frozenset({"volatile", "chunking"})
Status = Literal["added", "removed", "changed", "moved", "unchanged", "error"]
# How a pair was made: the same path; the same test id and endpoint, by request similarity; the same test function
# and endpoint under other parameters, by request similarity; the same request and answer somewhere else.
PairedBy = Literal["path", "test", "parameters", "moved"]
Bucket = Literal["changed", "added", "removed", "moved", "error", "chunking only", "volatile only", "unchanged"]
BUCKETS: tuple[Bucket, ...] = get_args(Bucket)
NO_TEST = "(no test id)"


@dataclass(slots=True, kw_only=True)
class FieldChange:
    """One field that differs, by JSON path (`$.messages[2].content`); `old`/`new` absent when added/removed."""

    path: str
    old: Any = None
    new: Any = None


@dataclass(slots=True, kw_only=True)
class TextChange:
    """A word-level diff: ops are `["=", text]`, `["-", text]`, `["+", text]`; long unchanged runs are cut to
    their ends around `" … "`."""

    old_chars: int
    new_chars: int
    ops: list[tuple[str, str]]


@dataclass(slots=True, kw_only=True)
class ToolCallChange:
    """A tool call that differs at one position: its names and, by JSON path, its argument changes (or a word
    diff of the arguments when either side is not valid JSON)."""

    index: int
    old_name: str | None = None
    new_name: str | None = None
    arguments: list[FieldChange] = field(default_factory=list)
    arguments_text: TextChange | None = None


@dataclass(slots=True, kw_only=True)
class NameChange:
    """The file name of each side, and the name the current recorder computes for the new side's request (what
    replay looks up); `status` says why replay cannot find the new file (`mismatch`, `stale`)."""

    old: str | None
    new: str | None
    expected: str | None = None
    status: str | None = None
    message: str | None = None


@dataclass(slots=True, kw_only=True)
class Details:
    """What changed, per class; only the classes that apply are filled."""

    problem: str | None = None
    moved: FieldChange | None = None
    name: NameChange | None = None
    type: FieldChange | None = None
    streaming: FieldChange | None = None
    request: list[FieldChange] = field(default_factory=list)
    content: TextChange | None = None
    content_fields: list[FieldChange] = field(default_factory=list)
    refusal: TextChange | None = None
    reasoning: TextChange | None = None
    tool_calls: list[ToolCallChange] = field(default_factory=list)
    finish_reason: FieldChange | None = None
    usage: list[FieldChange] = field(default_factory=list)
    models: list[FieldChange] = field(default_factory=list)
    metadata: list[FieldChange] = field(default_factory=list)
    model: FieldChange | None = None
    endpoint: FieldChange | None = None
    url: FieldChange | None = None
    error: list[FieldChange] = field(default_factory=list)
    volatile: list[str] = field(default_factory=list)
    chunking: FieldChange | None = None
    truncated: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class PairReport:
    """One line of `fixtures diff --json`: a pair of recordings, how it was paired, its status and its classes of
    change.

    Plain dataclasses, like the changes they hold: a diff builds thousands of them, and the command starts without
    building a model class."""

    old: str | None
    new: str | None
    test_id: str | None = None
    endpoint: str | None = None
    status: Status
    paired_by: PairedBy | None = None
    changes: list[ChangeClass] = field(default_factory=list)
    details: Details = field(default_factory=Details)

    @property
    def meaningful(self) -> bool:
        """Whether this pair changed what replay returns or whether it finds the file (added, removed and broken
        pairs always do); volatile fields and chunk boundaries alone do not."""
        if self.status in ("added", "removed", "error"):
            return True
        return any(change not in NOISE for change in self.changes)

    @property
    def bucket(self) -> Bucket:
        """The bucket a pair is counted in: its status; a changed pair whose changes are all noise is `volatile
        only` or `chunking only`, and a meaningful move is `changed`."""
        if self.status == "moved":
            return "changed" if self.meaningful else "moved"
        if self.status != "changed":
            return self.status
        if self.meaningful:
            return "changed"
        return "chunking only" if "chunking" in self.changes else "volatile only"

    def to_json(self) -> bytes:
        """The JSON Lines object: every top-level key always present, details only where something changed."""
        document = {
            "old": self.old,
            "new": self.new,
            "test_id": self.test_id,
            "endpoint": self.endpoint,
            "status": self.status,
            "paired_by": self.paired_by,
            "changes": list(self.changes),
            "details": _without_defaults(self.details),
        }
        try:
            return orjson.dumps(document)
        except TypeError:
            # Recorded text can hold lone surrogates or integers past 64 bits (orjson refuses both); the standard
            # library writes them as ASCII escapes and digits.
            return json.dumps(document, separators=(",", ":"), default=repr).encode()


_REQUIRED = object()
_DEFAULTS: dict[type, tuple[tuple[str, Any], ...]] = {}
_DETAIL_TYPES = (FieldChange, TextChange, ToolCallChange, NameChange, Details)


def _defaults_of(kind: type) -> tuple[tuple[str, Any], ...]:
    """Each field of a dataclass of this module and its default (`_REQUIRED` when it has none)."""
    found = _DEFAULTS.get(kind)
    if found is None:
        found = tuple(
            (
                item.name,
                item.default
                if item.default is not MISSING
                else item.default_factory()
                if item.default_factory is not MISSING
                else _REQUIRED,
            )
            for item in fields(kind)
        )
        _DEFAULTS[kind] = found
    return found


def _without_defaults(value: Any) -> Any:
    """The details as JSON holds them: the changes as objects without the fields left at their defaults, all the
    way down (recorded values are already JSON)."""
    if isinstance(value, _DETAIL_TYPES):
        document: dict[str, Any] = {}
        for name, default in _defaults_of(type(value)):
            item = getattr(value, name)
            if default is _REQUIRED or item != default:
                document[name] = _without_defaults(item)
        return document
    if isinstance(value, list) and value and isinstance(value[0], FieldChange | ToolCallChange):
        return [_without_defaults(item) for item in value]
    return value


@dataclass(slots=True)
class Summary:
    """Pairs per bucket, per class, and per test (the buckets and meaningful classes of the pairs that are not
    unchanged)."""

    buckets: Counter[str]
    classes: Counter[str]
    per_test: dict[str, Counter[str]]
    classes_per_test: dict[str, list[ChangeClass]]

    def bucket_line(self, counts: Counter[str] | None = None) -> str:
        """`2 changed, 1 moved, 19 unchanged`: the non-empty buckets in a fixed order."""
        counts = self.buckets if counts is None else counts
        return ", ".join(f"{counts[name]} {name}" for name in BUCKETS if counts[name])


def summarize(reports: Sequence[PairReport]) -> Summary:
    """The counts a diff's summary shows."""
    buckets: Counter[str] = Counter(report.bucket for report in reports)
    classes: Counter[str] = Counter(change for report in reports for change in report.changes)
    per_test: dict[str, Counter[str]] = defaultdict(Counter)
    meaningful: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        if report.status == "unchanged":
            continue
        test = report.test_id or NO_TEST
        per_test[test][report.bucket] += 1
        if report.meaningful:
            meaningful[test].update(change for change in report.changes if change not in NOISE)
    ordered = {test: [name for name in CLASSES if name in found] for test, found in meaningful.items()}
    return Summary(buckets, classes, dict(per_test), ordered)
