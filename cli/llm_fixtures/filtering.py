"""Selecting, sorting and grouping recordings by their facts (the filters of `ls`, shared by other commands)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from llm_fixtures.facts import Facts
from llm_fixtures.kinds import RequestKind


class SortKey(StrEnum):
    path = "path"
    test = "test"
    size = "size"
    chunks = "chunks"
    endpoint = "endpoint"
    model = "model"
    provider = "provider"


class GroupKey(StrEnum):
    test = "test"
    test_file = "test-file"
    suite = "suite"
    endpoint = "endpoint"
    model = "model"
    provider = "provider"


@dataclass(frozen=True)
class Filters:
    """Every filter is optional; all given ones must hold."""

    test: str | None = None
    endpoint: str | None = None
    model: str | None = None
    provider: str | None = None
    kind: RequestKind | None = None
    stream: bool | None = None
    errors: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    """One line of `--group-by`: how many recordings and bytes share a value."""

    group_by: str
    key: str | None
    count: int
    bytes: int


@lru_cache(maxsize=64)
def _pattern(text: str) -> re.Pattern[str]:
    """A test-id pattern: a substring, or a glob with `*` (any run of characters) and `?` (one character).
    Like a substring, a glob may match anywhere in the id (`test_response_*web_search` finds
    `...::test_response_with_web_search[...]`); brackets stay literal (test ids are full of them)."""
    if "*" not in text and "?" not in text:
        return re.compile(re.escape(text))
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text), re.DOTALL)


def matches_test(test_id: str | None, pattern: str) -> bool:
    """Whether a test id holds `pattern` (a substring or a glob, anywhere in the id)."""
    return test_id is not None and _pattern(pattern).search(test_id) is not None


def is_node_id(ref: str) -> bool:
    """Whether a reference reads as a pytest node id (`file.py::test[params]`) or names a test file."""
    return "::" in ref or ref.endswith(".py")


def _ends_with_path(text: str, suffix: str) -> bool:
    """`text` is `suffix`, or ends with it after a `/` (a node id given relative to a subfolder)."""
    return text == suffix or text.endswith("/" + suffix)


def matches_node_id(test_id: str | None, ref: str) -> bool:
    """Whether a recording's test id is the node `ref`: the same id; every parametrization of a node given
    without parameters; every test of a test file given alone."""
    if not test_id:
        return False
    if "::" not in ref:
        return _ends_with_path(test_id.partition("::")[0], ref)
    if "[" in ref:
        return _ends_with_path(test_id, ref)
    return _ends_with_path(test_id.split("[", 1)[0], ref)


def _contains(value: str | None, needle: str) -> bool:
    return value is not None and needle.lower() in value.lower()


def keep(facts: Facts, filters: Filters) -> bool:
    if filters.test is not None and not matches_test(facts.test_id, filters.test):
        return False
    if filters.endpoint is not None and not _contains(facts.endpoint, filters.endpoint):
        return False
    if filters.model is not None and not _contains(facts.model, filters.model):
        return False
    if filters.provider is not None and (facts.provider or "").lower() != filters.provider.lower():
        return False
    if filters.kind is not None and facts.kind != filters.kind:
        return False
    if filters.stream is not None and facts.streaming != filters.stream:
        return False
    return not (filters.errors and not facts.error)


def select(items: Iterable[Facts], filters: Filters) -> list[Facts]:
    return [facts for facts in items if keep(facts, filters)]


def sort_facts(items: Sequence[Facts], key: SortKey, *, reverse: bool = False) -> list[Facts]:
    """Sorted by `key`, ties broken by path; sizes and chunk counts largest first."""
    if key is SortKey.size:
        ordered = sorted(items, key=lambda f: (-f.bytes, f.path))
    elif key is SortKey.chunks:
        ordered = sorted(items, key=lambda f: (-f.chunks, f.path))
    else:
        attribute = {"test": "test_id"}.get(key.value, key.value)
        ordered = sorted(items, key=lambda f: (getattr(f, attribute) or "", f.path))
    return ordered[::-1] if reverse else ordered


def group_value(facts: Facts, key: GroupKey) -> str | None:
    """The value a recording is grouped by; an empty one (a request with `"model": ""`) is no value at all, so
    that it joins the `(none)` group rather than make a blank one beside it."""
    if key is GroupKey.test:
        value = facts.test_id
    elif key is GroupKey.test_file:
        value = facts.test_file
    elif key is GroupKey.suite:
        value = facts.suite
    elif key is GroupKey.endpoint:
        value = facts.endpoint
    elif key is GroupKey.model:
        value = facts.model
    else:
        value = facts.provider
    return value or None


def group(items: Iterable[Facts], key: GroupKey) -> list[Group]:
    """Counts and bytes per value of `key`, largest first, ties by value."""
    counts: dict[str | None, list[int]] = {}
    for facts in items:
        slot = counts.setdefault(group_value(facts, key), [0, 0])
        slot[0] += 1
        slot[1] += facts.bytes
    groups = [Group(group_by=key.value, key=value, count=c, bytes=b) for value, (c, b) in counts.items()]
    return sorted(groups, key=lambda g: (-g.bytes, g.key or ""))
