"""Pairing old and new recordings: by path; the same recording stored elsewhere (`moved`); within one test id and
endpoint by request similarity (`test`); within one test function and endpoint under other parameters
(`parameters`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# Recordings without a test id share one pool per endpoint; there, two requests must look alike to be paired. So
# must two recordings of one test function under other parameters.
SHARED_POOL_THRESHOLD = 0.5
PARAMETERS_THRESHOLD = 0.5

How = Literal["path", "test", "parameters", "moved"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One recording not paired by path: its key (path), test id, endpoint and request (volatile fields already
    set aside)."""

    key: str
    test_id: str | None
    endpoint: str | None
    request: Any = None
    fingerprint: str | None = None
    request_print: str | None = None

    @property
    def test_function(self) -> str | None:
        """The test id without its parameters: `file.py::test_x[a-b]` -> `file.py::test_x`."""
        if not self.test_id:
            return None
        return self.test_id.partition("[")[0]


@dataclass(frozen=True, slots=True)
class Pair:
    """An old and a new key (either may be None: removed or added), and how they were paired."""

    old: str | None
    new: str | None
    how: How | None = None


@dataclass(slots=True)
class Pairing:
    """Pairs in a stable order: the pairs made (by new key), then removed, then added."""

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


def _leaves(value: Any, out: set[int]) -> None:
    """Every leaf of a JSON value as a hashed `path=value`, walked with a stack (any depth)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        prefix, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{prefix}.{key}", child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((f"{prefix}.{index}", child) for index, child in enumerate(item))
        else:
            out.add(hash((prefix, item if isinstance(item, str | int | float | bool | None) else repr(item))))


def request_tokens(request: Any) -> frozenset[int]:
    """The request flattened into hashed `path=value` leaves, the unit of similarity."""
    out: set[int] = set()
    _leaves(request, out)
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


def _match_group(old: Sequence[Candidate], new: Sequence[Candidate], threshold: float, how: How) -> list[Pair]:
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
        pairs.append(Pair(old[i].key, new[j].key, how))
    return pairs


def _request_only(candidate: Candidate) -> Any:
    """The request without the test id (which differs by definition across parameters)."""
    request = candidate.request
    if isinstance(request, dict) and "test_id" in request:
        return {key: value for key, value in request.items() if key != "test_id"}
    return request


def _pair_groups(
    old: Sequence[Candidate],
    new: Sequence[Candidate],
    group: Callable[[Candidate], tuple[str | None, str | None]],
    how: How,
    threshold: Callable[[tuple[str | None, str | None]], float],
) -> list[Pair]:
    groups: dict[tuple[str | None, str | None], tuple[list[Candidate], list[Candidate]]] = defaultdict(lambda: ([], []))
    for candidate in old:
        groups[group(candidate)][0].append(candidate)
    for candidate in new:
        groups[group(candidate)][1].append(candidate)
    pairs: list[Pair] = []
    for key, (olds, news) in sorted(groups.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        if olds and news:
            pairs.extend(_match_group(sorted(olds, key=_key), sorted(news, key=_key), threshold(key), how))
    return pairs


def _key(candidate: Candidate) -> str:
    return candidate.key


def _folder(key: str) -> str:
    return key.rpartition("/")[0]


def pair_moved(old: Sequence[Candidate], new: Sequence[Candidate]) -> list[Pair]:
    """The same recording on both sides under other keys: moved to another folder or test, or renamed. First the
    same request and answer (test id and volatile fields apart), then the same request alone (moved and
    re-recorded). Among equal copies, the one of the same test, then of the same folder, then the first by key
    is taken."""
    pairs = _pair_equal(old, new, lambda c: c.fingerprint)
    taken_old = {pair.old for pair in pairs}
    taken_new = {pair.new for pair in pairs}
    pairs += _pair_equal(
        [c for c in old if c.key not in taken_old],
        [c for c in new if c.key not in taken_new],
        lambda c: c.request_print,
    )
    return pairs


def _pair_equal(
    old: Sequence[Candidate], new: Sequence[Candidate], print_of: Callable[[Candidate], str | None]
) -> list[Pair]:
    by_print: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in sorted(old, key=_key):
        found = print_of(candidate)
        if found is not None:
            by_print[found].append(candidate)
    pairs: list[Pair] = []
    for candidate in sorted(new, key=_key):
        olds = by_print.get(print_of(candidate) or "")
        if not olds:
            continue
        best = min(
            range(len(olds)),
            key=lambda i: (olds[i].test_id != candidate.test_id, _folder(olds[i].key) != _folder(candidate.key), i),
        )
        pairs.append(Pair(olds.pop(best).key, candidate.key, "moved"))
    return pairs


def pair_by_test(old: Sequence[Candidate], new: Sequence[Candidate]) -> Pairing:
    """Pair what the paths did not: the same recording moved elsewhere; then recordings of the same test id and
    endpoint (a re-record whose request, and so whose file name, changed); then recordings of the same test
    function and endpoint whose parameters changed (a model id renamed: the old test id is gone from the new side,
    the new one was not on the old side), by request similarity. What stays unpaired is removed (old) or added
    (new)."""
    pairing = Pairing()
    pairs = pair_moved(old, new)
    taken_old = {pair.old for pair in pairs}
    taken_new = {pair.new for pair in pairs}
    rest_old = [c for c in old if c.key not in taken_old]
    rest_new = [c for c in new if c.key not in taken_new]
    by_test = _pair_groups(
        rest_old,
        rest_new,
        lambda c: (c.test_id, c.endpoint),
        "test",
        lambda key: 0.0 if key[0] else SHARED_POOL_THRESHOLD,
    )
    pairs.extend(by_test)
    taken_old.update(pair.old for pair in by_test)
    taken_new.update(pair.new for pair in by_test)
    rest_old = [Candidate(c.key, c.test_id, c.endpoint, _request_only(c)) for c in rest_old if c.key not in taken_old]
    rest_new = [Candidate(c.key, c.test_id, c.endpoint, _request_only(c)) for c in rest_new if c.key not in taken_new]
    # Only a test id that is gone from the new side meets one that is new there: two parametrizations that both
    # still exist (azure and openai) are two recordings, not one renamed.
    tests_old = {c.test_id for c in old}
    tests_new = {c.test_id for c in new}
    by_parameters = _pair_groups(
        [c for c in rest_old if c.test_function and c.test_id not in tests_new],
        [c for c in rest_new if c.test_function and c.test_id not in tests_old],
        lambda c: (c.test_function, c.endpoint),
        "parameters",
        lambda _key: PARAMETERS_THRESHOLD,
    )
    pairs.extend(by_parameters)
    taken_old.update(pair.old for pair in by_parameters)
    taken_new.update(pair.new for pair in by_parameters)
    pairing.pairs = sorted(pairs, key=lambda pair: (pair.new or "", pair.old or ""))
    pairing.pairs.extend(Pair(c.key, None) for c in sorted(old, key=_key) if c.key not in taken_old)
    pairing.pairs.extend(Pair(None, c.key) for c in sorted(new, key=_key) if c.key not in taken_new)
    return pairing
