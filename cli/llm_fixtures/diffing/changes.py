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


def field_changes(old: Any, new: Any) -> list[FieldChange]:
    """Every field that differs between two JSON-like values, by JSON path (deepdiff on projected structures;
    keys starting with `__` are compared too)."""
    if old == new:
        return []
    from deepdiff.helper import notpresent

    old, new = _summarize_long_lists(old, new)
    new = _share_equal_parts(old, new)
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
