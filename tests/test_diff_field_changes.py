"""`field_changes` walks JSON itself: what it finds is what DeepDiff finds (the same paths, old and new values), on
chosen cases and on thousands of random pairs; values that are not plain JSON still go to DeepDiff."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from llm_fixtures.diffing import changes
from llm_fixtures.diffing.changes import field_changes
from llm_fixtures.diffing.report import FieldChange


def _by_deepdiff(old: Any, new: Any) -> list[tuple[str, str, str]]:
    """What the code before the JSON walk returned: DeepDiff on the same shortened, shared values."""
    if old == new:
        return []
    old, new = changes._summarize_long_lists(old, new)
    new = changes._share_equal_parts(old, new)
    return _key(changes._deepdiff_changes(old, new))


def _key(found: list[FieldChange]) -> list[tuple[str, str, str]]:
    # DeepDiff orders two changes at one path by a set's order (it varies between runs): compared as sorted.
    return sorted((change.path, repr(change.old), repr(change.new)) for change in found)


CASES: list[tuple[Any, Any, list[tuple[str, Any, Any]]]] = [
    # Numeric types are ignored, booleans among them (True == 1); a string against a number is a change.
    ({"a": 1, "b": True, "c": 2}, {"a": 1.0, "b": 1, "c": "2"}, [("$.c", 2, "2")]),
    ({"a": [1, 2]}, {"a": None}, [("$.a", [1, 2], None)]),
    # Two dicts with less than a third of their keys in common are one change of the whole.
    ({"x": {"a": 1, "b": 2, "c": 3}}, {"x": {"d": 4}}, [("$.x", {"a": 1, "b": 2, "c": 3}, {"d": 4})]),
    ({"x": {"a": 1, "b": 2}}, {"x": {"a": 1, "c": 3}}, [("$.x.b", 2, None), ("$.x.c", None, 3)]),
    # Lists of scalars by difflib: an insertion is one added item, not a shift.
    ({"t": ["a", "b", "c"]}, {"t": ["z", "a", "b", "c"]}, [("$.t[0]", None, "z")]),
    # ... unless item by item says less.
    ({"t": [1, 2, 3]}, {"t": [1, 5, 3, 4]}, [("$.t[1]", 2, 5), ("$.t[3]", None, 4)]),
    # A removed and an added item at the same index are one changed item.
    (
        {"t": ["a", "b", "c", "d"]},
        {"t": ["b", "x", "c", "d", "e"]},
        [("$.t[0]", "a", "b"), ("$.t[1]", "b", "x"), ("$.t[4]", None, "e")],
    ),
    # Lists of objects item by item; keys that need quoting.
    ([{"k'": 1}, {"x y": 2}], [{"k'": 2}], [('$[0]["k\'"]', 1, 2), ("$[1]", {"x y": 2}, None)]),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_field_changes_on_chosen_cases(old: Any, new: Any, expected: list[tuple[str, Any, Any]]) -> None:
    found = [(change.path, change.old, change.new) for change in field_changes(old, new)]
    assert sorted(found, key=repr) == sorted(expected, key=repr)
    assert _key(field_changes(old, new)) == _by_deepdiff(old, new)


_SCALARS: list[Any] = [0, 1, 2, 3, 1.0, 2.5, True, False, None, "a", "b", "c", "", "x'y", 'q"', "a'\"b", -1, 10**20]
_KEYS = ["a", "b", "c", "__type__", "x y", "k'", 'k"', "0", "é"]


def _value(rng: random.Random, depth: int = 0, long_lists: bool = False) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(_SCALARS)
    if roll < 0.7:
        return {key: _value(rng, depth + 1, long_lists) for key in rng.sample(_KEYS, rng.randint(0, 4))}
    if roll < 0.85:
        return [rng.choice(_SCALARS) for _ in range(rng.randint(0, 25 if long_lists else 6))]
    return [_value(rng, depth + 1, long_lists) for _ in range(rng.randint(0, 4))]


def _mutated(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if rng.random() < 0.15:
        return _value(rng, depth)
    if isinstance(value, dict):
        value = dict(value)
        for key in list(value):
            if rng.random() < 0.2:
                del value[key]
            elif rng.random() < 0.5:
                value[key] = _mutated(rng, value[key], depth + 1)
        if rng.random() < 0.3:
            value[rng.choice(_KEYS)] = _value(rng, depth + 1)
        return value
    if isinstance(value, list):
        value = list(value)
        for _ in range(rng.randint(0, 6)):
            roll = rng.random()
            if roll < 0.3 and value:
                del value[rng.randrange(len(value))]
            elif roll < 0.6:
                value.insert(rng.randint(0, len(value)), rng.choice(_SCALARS))
            elif value:
                at = rng.randrange(len(value))
                value[at] = _mutated(rng, value[at], depth + 1)
        if rng.random() < 0.2:
            rng.shuffle(value)
        return value
    return rng.choice(_SCALARS) if rng.random() < 0.5 else value


@pytest.mark.parametrize("seed", range(4))
def test_field_changes_find_what_deepdiff_finds(seed: int) -> None:
    rng = random.Random(seed)
    compared = 0
    for _ in range(1500):
        old = _value(rng, long_lists=seed % 2 == 1)
        new = _mutated(rng, copy.deepcopy(old))
        if old == new:
            continue
        compared += 1
        assert _key(field_changes(old, new)) == _by_deepdiff(old, new), (old, new)
    assert compared > 1000


def test_values_that_are_not_json_go_to_deepdiff() -> None:
    old = {"a": (1, 2), "b": {1: "x"}, "c": 1}
    new = {"a": (1, 3), "b": {1: "y"}, "c": 2}
    found = field_changes(old, new)
    assert _key(found) == _by_deepdiff(old, new)
    assert [change.path for change in found][::2] == ["$.a[1]", "$.c"]


def test_deep_nesting_costs_the_stack_what_it_cost_deepdiff() -> None:
    # DeepDiff took two frames per level of dicts: a value 400 levels deep was compared, not "nested too deeply".
    old: Any = 1
    new: Any = 2
    for _ in range(400):
        old, new = {"a": old}, {"a": new}
    (change,) = field_changes(old, new)
    assert change.path == "$" + ".a" * 400 and (change.old, change.new) == (1, 2)
