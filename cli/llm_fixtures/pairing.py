"""Pairing old and new recordings: by path first, then within one test id and endpoint by request similarity."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# Recordings without a test id share one pool per endpoint; there, two requests must look alike to be paired.
SHARED_POOL_THRESHOLD = 0.5

How = Literal["path", "test"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One recording not paired by path: its key (path), test id, endpoint and request (volatile fields already
    set aside)."""

    key: str
    test_id: str | None
    endpoint: str | None
    request: Any = None


@dataclass(frozen=True, slots=True)
class Pair:
    """An old and a new key (either may be None: removed or added), and how they were paired."""

    old: str | None
    new: str | None
    how: How | None = None


@dataclass(slots=True)
class Pairing:
    """Pairs in a stable order: by path, then by test, then removed, then added."""

    pairs: list[Pair] = field(default_factory=list)


def pair_by_path(old: Iterable[str], new: Iterable[str]) -> tuple[list[Pair], list[str], list[str]]:
    """Keys present on both sides are pairs; the rest of each side, sorted."""
    old_set, new_set = set(old), set(new)
    both = sorted(old_set & new_set)
    return (
        [Pair(key, key, "path") for key in both],
        sorted(old_set - new_set),
        sorted(new_set - old_set),
    )


def _leaves(value: Any, prefix: str, out: set[int]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _leaves(item, f"{prefix}.{key}", out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _leaves(item, f"{prefix}.{index}", out)
    else:
        out.add(hash((prefix, value if isinstance(value, str | int | float | bool | None) else repr(value))))


def request_tokens(request: Any) -> frozenset[int]:
    """The request flattened into hashed `path=value` leaves, the unit of similarity."""
    out: set[int] = set()
    _leaves(request, "", out)
    return frozenset(out)


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two token sets (1.0 for two empty requests)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _turns(request: Any) -> int:
    """How far into a conversation a request is: the number of messages (or input items)."""
    if isinstance(request, dict):
        for holder in (request.get("body"), request.get("payload"), request):
            if isinstance(holder, dict):
                for key in ("messages", "input", "contents"):
                    items = holder.get(key)
                    if isinstance(items, list):
                        return len(items)
    return 0


def _match_group(old: Sequence[Candidate], new: Sequence[Candidate], threshold: float) -> list[Pair]:
    """Greedy assignment, most similar first; ties go to the pair closest in conversation order."""
    old_tokens = [request_tokens(c.request) for c in old]
    new_tokens = [request_tokens(c.request) for c in new]
    old_turns = [_turns(c.request) for c in old]
    new_turns = [_turns(c.request) for c in new]
    scored: list[tuple[float, int, int, int]] = []
    for i, a in enumerate(old_tokens):
        for j, b in enumerate(new_tokens):
            score = 1.0 if a == b else similarity(a, b)
            if score >= threshold:
                scored.append((-score, abs(old_turns[i] - new_turns[j]), i, j))
    scored.sort()
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs: list[Pair] = []
    for _, _, i, j in scored:
        if i in used_old or j in used_new:
            continue
        used_old.add(i)
        used_new.add(j)
        pairs.append(Pair(old[i].key, new[j].key, "test"))
    return pairs


def pair_by_test(old: Sequence[Candidate], new: Sequence[Candidate]) -> Pairing:
    """Pair recordings of the same test id and endpoint (a re-record whose request, and so whose file name,
    changed); what stays unpaired is removed (old) or added (new)."""
    groups: dict[tuple[str | None, str | None], tuple[list[Candidate], list[Candidate]]] = defaultdict(lambda: ([], []))
    for candidate in old:
        groups[(candidate.test_id, candidate.endpoint)][0].append(candidate)
    for candidate in new:
        groups[(candidate.test_id, candidate.endpoint)][1].append(candidate)
    pairing = Pairing()
    paired_old: set[str] = set()
    paired_new: set[str] = set()
    for (test_id, _endpoint), (olds, news) in sorted(
        groups.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))
    ):
        if not olds or not news:
            continue
        threshold = 0.0 if test_id else SHARED_POOL_THRESHOLD
        for pair in _match_group(sorted(olds, key=lambda c: c.key), sorted(news, key=lambda c: c.key), threshold):
            pairing.pairs.append(pair)
            paired_old.add(pair.old or "")
            paired_new.add(pair.new or "")
    pairing.pairs.sort(key=lambda pair: (pair.new or "", pair.old or ""))
    pairing.pairs.extend(Pair(c.key, None) for c in sorted(old, key=lambda c: c.key) if c.key not in paired_old)
    pairing.pairs.extend(Pair(None, c.key) for c in sorted(new, key=lambda c: c.key) if c.key not in paired_new)
    return pairing
