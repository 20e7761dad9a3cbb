"""A pytest log read for replay misses: each `Recording not found` message, the test it failed (from the failure
section it sits in, the summary line that carries it, the results `-v` prints), duplicates merged."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from llm_fixtures.explaining.logtext import clean_lines
from llm_fixtures.explaining.messages import MARKERS, read_miss
from llm_fixtures.explaining.model import Miss
from llm_fixtures.explaining.nodeids import domain_of, find_node_ids, node_id_from
from llm_fixtures.nodeids import syntax_problem

STATUSES = ("PASSED", "FAILED", "ERROR", "SKIPPED", "XFAIL", "XPASS")
_RULE = re.compile(r"^={3,}(?: (.*?))? ={3,}$|^={6,}$")  # `==== FAILURES ====`, `==== 3 failed in 1s ====`
# `____ test_x[p] ____`, `____ ERROR at setup of test_x ____`; a title wider than the terminal keeps one `_` a
# side. Not the `_ _ _ _` line between chained exceptions.
_TITLE = re.compile(r"^_+ (?![_ ]*$)(.+?) _+$")
_TITLE_PREFIX = re.compile(r"^(?:ERROR at (?:setup|teardown) of |ERROR collecting )")
_FRAME = re.compile(r"^(\S+?\.py):\d+: in (\S+)")  # a traceback entry of --tb=short / auto / long
_XDIST = re.compile(r"^\[gw\d+\] (?:\[\s*\d+%\] )?")
_FAILED = ("FAILED", "ERROR")


@dataclass(slots=True)
class LogReading:
    """What a log says: its replay misses in the order they first appear, the node ids it reports a result for
    (failed ones apart), and how many lines it has."""

    misses: list[Miss] = field(default_factory=list)
    tests: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    lines: int = 0


def _results(line: str, reading: LogReading) -> str | None:
    """Record the node ids of a result line (`id PASSED [ 5%]` of -v, `FAILED id - message` of the summary);
    the node id a summary line is about, if it is one."""
    summary = None
    for node_id, start, end in find_node_ids(line):
        before = line[:start].split()
        if before and before[-1] in STATUSES:
            status: str | None = before[-1]
            summary = node_id
        elif not before:
            # With -s the test's own output comes between the id and its status, or pushes it to a later line.
            after = line[end:].split()
            status = after[0] if after and after[0] in STATUSES else None
        else:
            continue  # a node id inside other text
        reading.tests.add(node_id)
        if status in _FAILED:
            reading.failed.add(node_id)
    return summary


def read_log(text: str) -> LogReading:
    """Every replay miss of a log (plain pytest output, or a CI log with timestamps and colours), each with the
    test it belongs to when the log tells."""
    lines = clean_lines(text)
    reading = LogReading(lines=len(lines))
    title: str | None = None
    frames: list[tuple[str, str]] = []
    for index, raw in enumerate(lines):
        line = _XDIST.sub("", raw)
        if _RULE.match(line):
            title, frames = None, []
            continue
        heading = _TITLE.match(line)
        if heading is not None:
            title, frames = _TITLE_PREFIX.sub("", heading.group(1)), []
            continue
        frame = _FRAME.match(line)
        if frame is not None:
            frames.append((frame.group(1), frame.group(2)))
        summary = _results(line, reading) if "::" in line else None
        if not any(marker in line for marker in MARKERS):
            continue
        miss = read_miss(lines, index)
        if miss is None:
            continue
        if summary is not None:
            miss.test_id = summary
        else:
            miss.title = title
            miss.frames = [path for path, _ in frames]
            miss.test_id = _test_of(title, frames, reading.tests)
        reading.misses.append(miss)
    for miss in reading.misses:
        if miss.test_id is None and miss.title is not None:
            miss.test_id = _test_of(miss.title, [(path, "") for path in miss.frames], reading.tests)
        if miss.test_id is not None and syntax_problem(miss.test_id) is not None:
            miss.rejected_test_id, miss.test_id = miss.test_id, None
        if miss.kind == "tool" and miss.hash is None:
            miss.hash = tool_hash(miss)
    reading.misses = merge(reading.misses)
    return reading


def _test_of(title: str | None, frames: list[tuple[str, str]], tests: set[str]) -> str | None:
    """The node id of the failure titled `title`: the one reported test with that title (the traceback's files
    decide between several), else the title joined to the test file the traceback starts in."""
    if not title:
        return None
    named = sorted(test for test in tests if domain_of(test) == title)
    if len(named) == 1:
        return named[0]
    paths = [path for path, _ in frames]
    in_frames = [test for test in named if test.split("::", 1)[0] in paths]
    if len(in_frames) == 1:
        return in_frames[0]
    if named:
        return None  # several tests bear that title and the traceback does not tell which
    function = title.split("[", 1)[0].rsplit(".", 1)[-1]
    for path, name in frames:
        if name in (function, ""):
            return node_id_from(path, title)
    return None


def tool_hash(miss: Miss) -> str | None:
    """The request hash of a tool call (upstream `normalize_tool_request`: no test id), from the arguments the
    message prints."""
    if miss.tool_kwargs is None or miss.endpoint is None:
        return None
    from llm_fixtures.hashing import sha256_key, tool_key  # hashlib: only when a tool call missed

    provider, _, tool_name = miss.endpoint.partition(".")
    try:
        return sha256_key(
            tool_key({"request": {"provider": provider, "tool_name": tool_name, "kwargs": miss.tool_kwargs}})
        )
    except (TypeError, ValueError, RecursionError):
        return None


def _same(kept: Miss, other: Miss) -> bool:
    """Whether two sightings of a miss are one miss (the traceback, the summary line, a log line)."""
    if kept.kind != other.kind:
        return False
    tests = (kept.test_id, other.test_id)
    same_test = None not in tests and tests[0] == tests[1]
    if None not in tests and not same_test:
        return False
    a, b = kept.hash or kept.hash_prefix, other.hash or other.hash_prefix
    if a and b:
        return a.startswith(b) or b.startswith(a)
    if kept.url is not None and other.url is not None and kept.url != other.url:
        return False
    return same_test


def _absorb(kept: Miss, other: Miss) -> None:
    for name in ("test_id", "hash", "model", "method", "url", "endpoint", "tool_kwargs", "title"):
        if getattr(kept, name) is None and getattr(other, name) is not None:
            setattr(kept, name, getattr(other, name))
    if kept.hash is not None:
        kept.hash_prefix = None
    elif kept.hash_prefix is None:
        kept.hash_prefix = other.hash_prefix
    kept.rejected_test_id = kept.rejected_test_id or other.rejected_test_id


def merge(misses: list[Miss]) -> list[Miss]:
    """One miss per request that missed: sightings of the same miss merged into the first, each field taken
    from whichever sighting has it (the summary names the test, the traceback the whole hash). Each sighting is
    compared with the misses kept so far that can be the same (`_Kept`), not with all of them: a log of 16,000
    failed tests took half a minute."""
    kept = _Kept()
    for miss in misses:
        for position in kept.candidates(miss):
            if _same(kept.misses[position], miss):
                _absorb(kept.misses[position], miss)
                kept.index(position)
                break
        else:
            kept.index(kept.add(miss))
    return kept.misses


# Hashes and prefixes are looked up by their first characters: a log cuts a hash to 12 or more, and request
# hashes (sha256) share their first 12 only by chance.
_HASH_KEY = 12


class _Kept:
    """The misses kept by `merge`, indexed so that the ones a sighting can be `_same` as are found at once: a
    sighting with a test id is the same only as a miss of that test, or (their hashes agreeing) of none; one
    without is the same only as a miss whose hash or prefix agrees with its own, so shares its first characters.
    A miss is indexed again when a sighting adds a test id or a hash to it."""

    def __init__(self) -> None:
        self.misses: list[Miss] = []
        self._by_test: dict[tuple[str, str], list[int]] = {}
        self._by_hash: dict[tuple[str, str], list[int]] = {}
        self._short: dict[str, list[int]] = {}  # a hash or prefix shorter than _HASH_KEY

    def add(self, miss: Miss) -> int:
        self.misses.append(miss)
        return len(self.misses) - 1

    def index(self, position: int) -> None:
        miss = self.misses[position]
        if miss.test_id is not None:
            _put(self._by_test, (miss.kind, miss.test_id), position)
        known = miss.hash or miss.hash_prefix
        if known and len(known) >= _HASH_KEY:
            _put(self._by_hash, (miss.kind, known[:_HASH_KEY]), position)
        elif known:
            _put(self._short, miss.kind, position)

    def candidates(self, miss: Miss) -> list[int]:
        """The positions of the kept misses `miss` can be the same as, in order."""
        found: set[int] = set()
        if miss.test_id is not None:
            found.update(self._by_test.get((miss.kind, miss.test_id), ()))
        known = miss.hash or miss.hash_prefix
        if known and len(known) >= _HASH_KEY:
            found.update(self._by_hash.get((miss.kind, known[:_HASH_KEY]), ()))
            found.update(self._short.get(miss.kind, ()))
        elif known:  # a short prefix may agree with any hash: every miss of its kind that has one
            found.update(self._short.get(miss.kind, ()))
            for (kind, _key), positions in self._by_hash.items():
                if kind == miss.kind:
                    found.update(positions)
        return sorted(found)


def _put(index: dict[Any, list[int]], key: Any, position: int) -> None:
    positions = index.setdefault(key, [])
    if not positions or positions[-1] != position:
        positions.append(position)


def missed_tests(reading: LogReading) -> list[str]:
    """The node ids of the tests that missed a recording, in the order the log shows them, each once (only ids
    safe to put on a command line: the others were set aside while reading)."""
    return list(dict.fromkeys(miss.test_id for miss in reading.misses if miss.test_id is not None))
