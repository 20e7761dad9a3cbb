"""Differences between two JSON values, two texts, two lists of tool calls: the pure primitives of `diff`."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from llm_fixtures.diffing.report import FieldChange, TextChange, ToolCallChange

if TYPE_CHECKING:
    from llm_fixtures.assembling.final import ToolCall

# Caps that keep one pathological pair from flooding a report.
LONG_LIST = 256
MAX_WORD_DIFF_WORK = 50_000_000
CONTEXT_WORDS = 8


def _json_path(parts: list[Any]) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            key = orjson.dumps(part).decode() if isinstance(part, str) else repr(part)
            path += f"[{key}]"
    return path


def _summarize_long_lists(old: Any, new: Any) -> tuple[Any, Any]:
    """Two values with every differing pair of long lists (embeddings, token ids, logprobs) replaced by a
    one-line summary each: one change that says how many items differ, not thousands of them."""
    if isinstance(old, dict) and isinstance(new, dict):
        a, b = dict(old), dict(new)
        for key in old.keys() & new.keys():
            if old[key] != new[key]:
                a[key], b[key] = _summarize_long_lists(old[key], new[key])
        return a, b
    if isinstance(old, list) and isinstance(new, list):
        if max(len(old), len(new)) <= LONG_LIST:
            pairs = [_summarize_long_lists(x, y) if x != y else (x, y) for x, y in zip(old, new, strict=False)]
            return [x for x, _ in pairs] + old[len(pairs) :], [y for _, y in pairs] + new[len(pairs) :]
        differ = sum(1 for x, y in zip(old, new, strict=False) if x != y) + abs(len(old) - len(new))
        return f"<{len(old)} items>", f"<{len(new)} items, {differ} differ>"
    return old, new


@functools.cache
def deepdiff_class() -> Any:
    """DeepDiff, minus a cost we never use: before each comparison it writes out the path of the level to match
    it against exclusions (a `repr` and an `ast.literal_eval` per list index, and the reference cycles they
    leave for the garbage collector). With no exclusion set, nothing is skipped, as DeepDiff would decide."""
    from deepdiff import DeepDiff

    class _DeepDiff(DeepDiff):
        def _skip_this(self, level: Any) -> bool:
            if not any(getattr(self, name, None) for name in _DEEPDIFF_FILTERS):
                return False
            return bool(super()._skip_this(level))

    return _DeepDiff


# Every option of DeepDiff that can make it skip a level (none is set here; listed so that one would be honoured).
_DEEPDIFF_FILTERS = (
    "exclude_paths",
    "exclude_glob_paths",
    "include_paths",
    "include_glob_paths",
    "exclude_regex_paths",
    "exclude_types_tuple",
    "exclude_obj_callback",
    "exclude_obj_callback_strict",
    "include_obj_callback",
    "include_obj_callback_strict",
)


def _same_json(old: Any, new: Any) -> bool:
    """Equal and written the same in JSON (types, key order): DeepDiff would find nothing between the two."""
    if old is new:
        return True
    if old != new:
        return False
    try:
        return orjson.dumps(old) == orjson.dumps(new)
    except TypeError:
        return False


def _share_equal_parts(old: Any, new: Any) -> Any:
    """`new` with every part that is the same as the part of `old` at the same place replaced by that very
    object: DeepDiff passes over identical objects at once, where it would walk two equal copies."""
    if isinstance(old, dict) and isinstance(new, dict):
        shared: dict[str, Any] = {}
        for key, value in new.items():
            if key in old:
                before = old[key]
                value = before if _same_json(before, value) else _share_equal_parts(before, value)
            shared[key] = value
        return shared
    if isinstance(old, list) and isinstance(new, list):
        common = min(len(old), len(new))
        items = [old[i] if _same_json(old[i], new[i]) else _share_equal_parts(old[i], new[i]) for i in range(common)]
        return items + new[common:]
    return new


class _NotJson(Exception):
    """A value the JSON walk does not know (a tuple, a set, a dict key that is not a string): DeepDiff decides."""


# A side of a field that is not there (added or removed).
_ABSENT: Any = object()
_SCALARS = (str, int, float, bool, type(None))
# DeepDiff's `threshold_to_diff_deeper`: two dicts sharing fewer keys than this are one changed value.
_DIFF_DEEPER = 0.33
_NUMBERS = (int, float)  # with bool, a subclass of int: DeepDiff's numeric group when numeric types are ignored
Path = tuple[str | int, ...]
Found = tuple[Path, Any, Any]


class _JsonDiff:
    """DeepDiff's tree view of two JSON values (dicts with string keys, lists, strings, numbers, booleans, None)
    under the options `field_changes` uses (`ignore_numeric_type_changes`, private keys compared), reproduced
    without its cost (a level object, copied, per value walked, and a 0.1 s import): the same changes, at the
    same paths, with the same old and new values. Lists of scalars are matched as DeepDiff matches them (difflib
    opcodes, or item by item when that says less); an item removed and one added at the same path are one change.
    Anything else raises _NotJson."""

    def __init__(self, ancestors: set[int] | None = None) -> None:
        self.found: list[Found] = []
        self.added: list[Found] = []  # list items (dict keys added are in `found`)
        self.removed: list[Found] = []
        self._ancestors: set[int] = set() if ancestors is None else ancestors

    def __len__(self) -> int:
        return len(self.found) + len(self.added) + len(self.removed)

    def run(self, old: Any, new: Any) -> list[Found]:
        self._ancestors.add(id(old))
        self._diff(old, new, ())
        if self.added and self.removed:
            self._pair_added_with_removed()
        return [*self.found, *self.removed, *self.added]

    def _pair_added_with_removed(self) -> None:
        """DeepDiff's `mutual_add_removes_to_become_value_changes`: matched by its string form of the path."""
        added = {_deepdiff_path(path): (path, new) for path, _, new in self.added}
        removed = {_deepdiff_path(path): (path, old) for path, old, _ in self.removed}
        both = added.keys() & removed.keys()
        for key in sorted(both):
            path, old = removed[key]
            self.found.append((path, old, added[key][1]))
        self.added = [change for change in self.added if _deepdiff_path(change[0]) not in both]
        self.removed = [change for change in self.removed if _deepdiff_path(change[0]) not in both]

    def _diff(self, old: Any, new: Any, path: Path) -> None:
        if old is new:
            return
        kind_old, kind_new = type(old), type(new)
        if kind_old not in _KNOWN or kind_new not in _KNOWN:
            raise _NotJson
        if kind_old is not kind_new and not (isinstance(old, _NUMBERS) and isinstance(new, _NUMBERS)):
            self.found.append((path, old, new))  # a type change
        elif kind_old is dict:
            self._diff_dict(old, new, path)
        elif kind_old is list:
            self._diff_list(old, new, path)
        elif old != new:
            self.found.append((path, old, new))

    def _descend(self, old: Any, new: Any, path: Path) -> None:
        """One level down, unless `old` is one of the values above it (DeepDiff's guard against cycles)."""
        key = id(old)
        if key in self._ancestors:
            return
        if type(old) is dict or type(old) is list:
            self._ancestors.add(key)
            try:
                self._diff(old, new, path)
            finally:
                self._ancestors.discard(key)
        else:
            self._diff(old, new, path)

    def _diff_dict(self, old: dict[Any, Any], new: dict[Any, Any], path: Path) -> None:
        if any(type(key) is not str for key in old) or any(type(key) is not str for key in new):
            raise _NotJson
        common = sum(1 for key in new if key in old)
        union = len(old) + len(new) - common
        if union > 1 and common / union < _DIFF_DEEPER:
            self.found.append((path, old, new))  # too little in common: one change of the whole
            return
        for key in new:
            if key not in old:
                self.found.append(((*path, key), _ABSENT, new[key]))
        for key in old:
            if key not in new:
                self.found.append(((*path, key), old[key], _ABSENT))
        ancestors = self._ancestors
        for key in new:
            if key in old:
                # One level down, as `_descend` (inline: a level costs the stack what it costs DeepDiff, so that
                # a file nested too deeply for it is too deep here, and no deeper).
                below = old[key]
                if id(below) in ancestors:
                    continue
                if type(below) is dict or type(below) is list:
                    ancestors.add(id(below))
                    try:
                        self._diff(below, new[key], (*path, key))
                    finally:
                        ancestors.discard(id(below))
                else:
                    self._diff(below, new[key], (*path, key))

    def _diff_list(self, old: list[Any], new: list[Any], path: Path) -> None:
        if not _all_scalars(old) or not _all_scalars(new):
            self._pairwise(old, new, path, 0, 0)
            return
        # Lists of scalars: difflib's opcodes, unless comparing item by item finds fewer changes.
        chosen = by_opcodes = _JsonDiff(self._ancestors)
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "replace":
                by_opcodes._pairwise(old[i1:i2], new[j1:j2], path, i1, j1)
            elif tag == "delete":
                by_opcodes.removed.extend(((*path, i), old[i], _ABSENT) for i in range(i1, i2))
            elif tag == "insert":
                by_opcodes.added.extend(((*path, j), _ABSENT, new[j]) for j in range(j1, j2))
        if len(by_opcodes) > 1:
            by_items = _JsonDiff(self._ancestors)
            by_items._pairwise(old, new, path, 0, 0)
            if len(by_opcodes) >= len(by_items):
                chosen = by_items
        self.found.extend(chosen.found)
        self.added.extend(chosen.added)
        self.removed.extend(chosen.removed)

    def _pairwise(self, old: list[Any], new: list[Any], path: Path, old_start: int, new_start: int) -> None:
        """Items matched by position (from `old_start` and `new_start`): an item at the same position compared,
        one beyond the other list removed or added, an equal one at another position moved."""
        common = min(len(old), len(new))
        for offset in range(common):
            at, x, y = old_start + offset, old[offset], new[offset]
            if at != new_start + offset and x == y:
                self.found.append(((*path, at), x, y))  # moved
            else:
                self._descend(x, y, (*path, at))
        self.removed.extend(((*path, old_start + k), old[k], _ABSENT) for k in range(common, len(old)))
        self.added.extend(((*path, new_start + k), _ABSENT, new[k]) for k in range(common, len(new)))


_KNOWN = frozenset({dict, list, *_SCALARS})


def _all_scalars(items: list[Any]) -> bool:
    return all(type(item) in _SCALAR_TYPES for item in items)


_SCALAR_TYPES = frozenset(_SCALARS)


def _deepdiff_path(path: Path) -> str:
    """DeepDiff's string form of a path (`root['a'][0]`), by which it pairs an item removed with one added."""
    parts = ["root"]
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(f'["{part}"]' if "'" in part else f"['{part}']")
    return "".join(parts)


def field_changes(old: Any, new: Any) -> list[FieldChange]:
    """Every field that differs between two JSON-like values, by JSON path (what DeepDiff reports on projected
    structures, with numeric type changes ignored; keys starting with `__` are compared too)."""
    if old == new:
        return []
    old, new = _summarize_long_lists(old, new)
    new = _share_equal_parts(old, new)
    try:
        found = _JsonDiff().run(old, new)
    except _NotJson:
        return _deepdiff_changes(old, new)
    changes = [
        FieldChange(path=_json_path(list(path)), old=None if a is _ABSENT else a, new=None if b is _ABSENT else b)
        for path, a, b in found
    ]
    changes.sort(key=lambda change: change.path)
    return changes


def _deepdiff_changes(old: Any, new: Any) -> list[FieldChange]:
    """`field_changes` by DeepDiff itself, for values that are not plain JSON."""
    from deepdiff.helper import notpresent

    # The tree view is all that is read here: no text view is built from it.
    diff = deepdiff_class()(old, new, ignore_private_variables=False, ignore_numeric_type_changes=True, view="tree")
    changes: list[FieldChange] = []
    for levels in diff.tree.values():
        for level in levels:
            changes.append(
                FieldChange(
                    path=_json_path(level.path(output_format="list")),
                    old=None if level.t1 is notpresent else level.t1,
                    new=None if level.t2 is notpresent else level.t2,
                )
            )
    changes.sort(key=lambda change: change.path)
    return changes


_WORDS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str | None, new: str | None) -> TextChange:
    """A word-level diff of two texts; unchanged runs longer than 2 x CONTEXT_WORDS words keep only their ends."""
    a = _WORDS.findall(old or "")
    b = _WORDS.findall(new or "")
    # Edits are usually local: match the common ends directly, and run difflib on the middle only.
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    old_middle, new_middle = a[prefix : len(a) - suffix], b[prefix : len(b) - suffix]
    if len(old_middle) * len(new_middle) > MAX_WORD_DIFF_WORK:
        # Two long texts that differ throughout: matching them word by word costs more than it tells.
        middle_ops: Sequence[tuple[str, int, int, int, int]] = [("replace", 0, len(old_middle), 0, len(new_middle))]
    else:
        matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=len(a) + len(b) > 4000)
        middle_ops = matcher.get_opcodes()
    opcodes = [("equal", 0, prefix, 0, prefix)] if prefix else []
    opcodes += [(tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix) for tag, i1, i2, j1, j2 in middle_ops]
    if suffix:
        opcodes.append(("equal", len(a) - suffix, len(a), len(b) - suffix, len(b)))
    ops: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal" and i1 == i2:
            continue
        if tag == "equal":
            words = a[i1:i2]
            if len(words) > 4 * CONTEXT_WORDS:
                head = "" if not ops else "".join(words[: 2 * CONTEXT_WORDS])
                tail = "".join(words[-2 * CONTEXT_WORDS :]) if i2 < len(a) or j2 < len(b) else ""
                ops.append(("=", f"{head} … {tail}"))
            else:
                ops.append(("=", "".join(words)))
            continue
        if tag in ("replace", "delete"):
            ops.append(("-", "".join(a[i1:i2])))
        if tag in ("replace", "insert"):
            ops.append(("+", "".join(b[j1:j2])))
    return TextChange(old_chars=len(old or ""), new_chars=len(new or ""), ops=ops)


def tool_call_changes(old: Sequence[ToolCall], new: Sequence[ToolCall]) -> list[ToolCallChange]:
    """Per position: changed names (or kinds of built-in call), and argument changes by JSON path (parsed when
    both sides are JSON, a word diff otherwise)."""
    changes: list[ToolCallChange] = []
    for index in range(max(len(old), len(new))):
        a = old[index] if index < len(old) else None
        b = new[index] if index < len(new) else None
        if a is not None and b is not None and a.name == b.name and a.kind == b.kind and a.arguments == b.arguments:
            continue
        change = ToolCallChange(index=index, old_name=a.name if a else None, new_name=b.name if b else None)
        if a is not None and b is not None:
            ok_a, args_a = a.parsed_arguments()
            ok_b, args_b = b.parsed_arguments()
            if ok_a and ok_b:
                change.arguments = field_changes(args_a, args_b)
                if not change.arguments and change.old_name == change.new_name and a.kind == b.kind:
                    continue  # the same JSON written differently
            else:
                change.arguments_text = word_diff(str(a.arguments), str(b.arguments))
        changes.append(change)
    return changes
