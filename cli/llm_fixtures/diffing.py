"""Comparing two recordings by what they mean: project each side (request, assembled answer), then classify."""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Literal, get_args

import orjson

from llm_fixtures.facts import Facts
from llm_fixtures.volatility import (
    Found,
    Volatility,
    changed_fields,
    strip_items_top,
    strip_request,
    strip_response,
    strip_response_fast,
)

ChangeClass = Literal[
    "volatile",
    "chunking",
    "content",
    "reasoning",
    "tool_calls",
    "finish_reason",
    "usage",
    "request",
    "model",
    "endpoint",
    "url",
    "error",
]
CLASSES: tuple[ChangeClass, ...] = get_args(ChangeClass)
NOISE: frozenset[str] = frozenset({"volatile", "chunking"})
Status = Literal["added", "removed", "changed", "unchanged", "error"]

# Caps that keep one pathological pair from flooding a report.
MAX_FIELD_CHANGES = 50
LONG_LIST = 256
MAX_WORD_DIFF_WORK = 50_000_000
CONTEXT_WORDS = 8


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
class Details:
    """What changed, per class; only the classes that apply are filled."""

    paired_by: str | None = None
    problem: str | None = None
    request: list[FieldChange] = field(default_factory=list)
    content: TextChange | None = None
    content_fields: list[FieldChange] = field(default_factory=list)
    reasoning: TextChange | None = None
    tool_calls: list[ToolCallChange] = field(default_factory=list)
    finish_reason: FieldChange | None = None
    usage: list[FieldChange] = field(default_factory=list)
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
    """One line of `fixtures diff --json`: a pair of recordings, its status and its classes of change.

    Plain dataclasses, like the changes they hold: a diff builds thousands of them, and the command starts without
    building a model class."""

    old: str | None
    new: str | None
    test_id: str | None = None
    endpoint: str | None = None
    status: Status
    changes: list[ChangeClass] = field(default_factory=list)
    details: Details = field(default_factory=Details)

    @property
    def meaningful(self) -> bool:
        """Whether this pair changed beyond volatile fields and chunk boundaries (or is added/removed/broken)."""
        if self.status in ("added", "removed", "error"):
            return True
        return any(change not in NOISE for change in self.changes)

    def to_json(self) -> bytes:
        """The JSON Lines object: every top-level key always present, details only where something changed."""
        document = {
            "old": self.old,
            "new": self.new,
            "test_id": self.test_id,
            "endpoint": self.endpoint,
            "status": self.status,
            "changes": list(self.changes),
            "details": _without_defaults(self.details),
        }
        try:
            return orjson.dumps(document)
        except TypeError:
            # Recorded text can hold lone surrogates (orjson refuses them); ASCII escapes keep them as they were.
            return json.dumps(document, separators=(",", ":"), default=repr).encode()


_REQUIRED = object()
_DEFAULTS: dict[type, tuple[tuple[str, Any], ...]] = {}


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
    if isinstance(value, FieldChange | TextChange | ToolCallChange | Details):
        document: dict[str, Any] = {}
        for name, default in _defaults_of(type(value)):
            item = getattr(value, name)
            if default is _REQUIRED or item != default:
                document[name] = _without_defaults(item)
        return document
    if isinstance(value, list) and value and isinstance(value[0], FieldChange | ToolCallChange):
        return [_without_defaults(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------- assembly


@dataclass(slots=True)
class Assembled:
    """A response body folded into one result (a stream assembled, an envelope unwrapped)."""

    kind: str
    result: Any
    warnings: list[str] = field(default_factory=list)


def _unwrap(body: Any) -> Any:
    from llm_fixtures.envelopes import parse_envelope

    if isinstance(body, list):
        return [parse_envelope(item)[1] for item in body]
    return parse_envelope(body)[1]


# Kinds `assemble` gives for bodies that are not a message (model lists, embeddings, /api/ps, tool results):
# those are compared as stored, envelopes unwrapped.
_NOT_A_MESSAGE = frozenset({"unknown", "empty", "none"})


def assemble_body(body: Any, *, is_streaming: bool) -> Assembled:
    """The one place the assembled comparison gets its result from: `llm_fixtures.assembling`, without its
    bookkeeping keys (a stream and its non-stream twin compare equal)."""
    from llm_fixtures.assembling import comparable, fold_body

    kind, folded, warnings = fold_body(body, is_streaming=is_streaming)
    if kind in _NOT_A_MESSAGE:
        return Assembled(kind="body", result=_unwrap(body))
    result = comparable(folded)
    result.pop("kind", None)
    return Assembled(kind=kind, result=result, warnings=list(warnings))


# -------------------------------------------------------------------------------------------- projection


@dataclass(slots=True)
class ResponseView:
    """The parts of an assembled answer that carry meaning, each compared on its own."""

    text: str | None = None
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: Any = None
    usage: Any = None
    model: Any = None
    error: Any = None
    rest: Any = None


def _text_of(value: Any) -> str | None:
    """Text from a string or a list of content parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [
            part["text"]
            for part in value
            if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought")
        ]
        return "".join(parts) if parts else None
    return None


def _join(parts: list[str | None]) -> str | None:
    present = [part for part in parts if part is not None]
    if not present:
        return None
    if len(parts) == 1:
        return present[0]
    return "\n\n".join(f"[choice {index}]\n{part or ''}" for index, part in enumerate(parts))


def _without(value: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key not in keys and item is not None}


_CHOICE_KEYS = frozenset({"index", "finish_reason", "message", "text", "delta"})
_MESSAGE_KEYS = frozenset(
    {
        "content",
        "reasoning",
        "reasoning_content",
        "reasoning_details",
        "thinking",
        "tool_calls",
        "function_call",
    }
)
_TOP_KEYS = frozenset({"choices", "usage", "model", "kind", "n_items", "object"})


def _reasoning_of(message: dict[str, Any]) -> str | None:
    for key in ("reasoning_content", "reasoning", "thinking"):
        if isinstance(message.get(key), str):
            return str(message[key])
    details = message.get("reasoning_details")
    if isinstance(details, list):
        return _text_of(details)
    return None


def _chat_view(result: dict[str, Any]) -> ResponseView:
    view = ResponseView(usage=result.get("usage"), model=result.get("model"))
    texts: list[str | None] = []
    reasonings: list[str | None] = []
    finishes: list[Any] = []
    rest: dict[str, Any] = {"top": _without(result, _TOP_KEYS), "choices": []}
    choices = [c for c in result.get("choices") or [] if isinstance(c, dict)]
    for choice in sorted(choices, key=lambda c: c.get("index") or 0):
        message = choice.get("message") or choice.get("delta") or {}
        texts.append(_text_of(message.get("content")) if "content" in message else _text_of(choice.get("text")))
        reasonings.append(_reasoning_of(message))
        finishes.append(choice.get("finish_reason"))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            view.tool_calls.append({"name": function.get("name"), "arguments": function.get("arguments")})
        function_call = message.get("function_call")
        if isinstance(function_call, dict):
            view.tool_calls.append({"name": function_call.get("name"), "arguments": function_call.get("arguments")})
        rest["choices"].append({**_without(choice, _CHOICE_KEYS), **_without(message, _MESSAGE_KEYS)})
    view.text = _join(texts)
    view.reasoning = _join(reasonings)
    view.finish_reason = finishes[0] if len(finishes) == 1 else (finishes or None)
    view.rest = rest
    return view


def _responses_view(result: dict[str, Any]) -> ResponseView:
    view = ResponseView(usage=result.get("usage"), model=result.get("model"))
    texts: list[str] = []
    reasonings: list[str] = []
    others: list[Any] = []
    for item in result.get("output") or []:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "message":
            texts.append(_text_of(item.get("content")) or "")
        elif kind == "reasoning":
            reasonings.append((_text_of(item.get("summary")) or "") + (_text_of(item.get("content")) or ""))
        elif kind == "function_call":
            view.tool_calls.append({"name": item.get("name"), "arguments": item.get("arguments")})
        elif isinstance(kind, str) and kind.endswith("_call"):
            view.tool_calls.append({"name": kind, "arguments": _without(item, frozenset({"type", "status"}))})
        else:
            others.append(item)
    view.text = "".join(texts) if texts else None
    view.reasoning = "".join(reasonings) if reasonings else None
    incomplete = result.get("incomplete_details")
    view.finish_reason = result.get("status") if not incomplete else [result.get("status"), incomplete]
    view.rest = {
        "top": _without(result, frozenset({"output", "output_text", "usage", "model", "status", "incomplete_details"})),
        "output": others,
    }
    return view


_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


def _anthropic_view(result: dict[str, Any]) -> ResponseView:
    view = ResponseView(usage=result.get("usage"), model=result.get("model"), finish_reason=result.get("stop_reason"))
    texts: list[str] = []
    reasonings: list[str] = []
    others: list[Any] = []
    for block in result.get("content") or []:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "thinking":
            reasonings.append(str(block.get("thinking") or ""))
        elif kind == "redacted_thinking":
            reasonings.append("[redacted thinking]")
        elif kind in _TOOL_BLOCKS:
            view.tool_calls.append({"name": block.get("name"), "arguments": block.get("input")})
        else:
            others.append(block)
    view.text = "".join(texts) if texts else None
    view.reasoning = "".join(reasonings) if reasonings else None
    view.rest = {"top": _without(result, frozenset({"content", "usage", "model", "stop_reason"})), "blocks": others}
    return view


_OLLAMA_USAGE = ("prompt_eval_count", "eval_count")


def _ollama_view(result: dict[str, Any]) -> ResponseView:
    message = result.get("message") if isinstance(result.get("message"), dict) else {}
    assert isinstance(message, dict)
    view = ResponseView(model=result.get("model"), finish_reason=result.get("done_reason"))
    view.text = _text_of(message.get("content")) if message else _text_of(result.get("response"))
    view.reasoning = _text_of(message.get("thinking") if message else result.get("thinking"))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {} if isinstance(call, dict) else {}
        view.tool_calls.append({"name": function.get("name"), "arguments": function.get("arguments")})
    usage = {key: result[key] for key in _OLLAMA_USAGE if result.get(key) is not None}
    view.usage = usage or None
    skip = frozenset({"message", "response", "thinking", "model", "done_reason", "context", *_OLLAMA_USAGE})
    view.rest = {
        "top": _without(result, skip),
        "message": _without(message, frozenset({"content", "thinking", "tool_calls"})),
    }
    return view


def _genai_view(result: dict[str, Any]) -> ResponseView:
    view = ResponseView(
        usage=result.get("usage_metadata", result.get("usageMetadata")),
        model=result.get("model_version", result.get("modelVersion")),
    )
    texts: list[str | None] = []
    reasonings: list[str] = []
    finishes: list[Any] = []
    for candidate in result.get("candidates") or []:
        if not isinstance(candidate, dict):
            continue
        parts = (candidate.get("content") or {}).get("parts") or []
        texts.append(_text_of(parts))
        for part in parts:
            if not isinstance(part, dict):
                continue
            if part.get("thought") and isinstance(part.get("text"), str):
                reasonings.append(part["text"])
            call = part.get("function_call", part.get("functionCall"))
            if isinstance(call, dict):
                view.tool_calls.append({"name": call.get("name"), "arguments": call.get("args")})
        finishes.append(candidate.get("finish_reason", candidate.get("finishReason")))
    view.text = _join(texts)
    view.reasoning = "".join(reasonings) if reasonings else None
    view.finish_reason = finishes[0] if len(finishes) == 1 else (finishes or None)
    skip = frozenset({"candidates", "usage_metadata", "usageMetadata", "model_version", "modelVersion"})
    view.rest = {"top": _without(result, skip)}
    return view


def _interactions_view(result: dict[str, Any]) -> ResponseView:
    view = ResponseView(usage=result.get("usage"), model=result.get("model"), finish_reason=result.get("status"))
    texts: list[str] = []
    reasonings: list[str] = []
    others: list[Any] = []
    for output in result.get("outputs") or []:
        if not isinstance(output, dict):
            continue
        kind = output.get("type")
        if kind == "text":
            texts.append(str(output.get("text") or ""))
        elif kind == "thought":
            reasonings.append(_text_of(output.get("summary")) or "")
        elif kind == "function_call":
            view.tool_calls.append({"name": output.get("name"), "arguments": output.get("arguments")})
        else:
            others.append(output)
    view.text = "".join(texts) if texts else None
    view.reasoning = "".join(reasonings) if any(reasonings) else None
    skip = frozenset({"outputs", "usage", "model", "status", "role"})
    view.rest = {"top": _without(result, skip), "outputs": others}
    return view


def project_response(result: Any, kind: str = "") -> ResponseView:
    """The meaningful parts of an assembled result, whatever the API (chat, Responses, Anthropic, Ollama,
    google-genai, Gemini Interactions); anything else is compared whole as `rest`. A `stream_error` is kept
    apart as the view's error."""
    if isinstance(result, dict) and "stream_error" in result:
        result = dict(result)
        error = result.pop("stream_error")
        view = project_response(result, kind)
        view.error = error
        return view
    if isinstance(result, dict):
        if kind == "anthropic" and isinstance(result.get("message"), dict):
            return _anthropic_view(result["message"])
        if kind == "gemini.interactions":
            return _interactions_view(result)
        if isinstance(result.get("choices"), list):
            return _chat_view(result)
        if isinstance(result.get("output"), list):
            return _responses_view(result)
        if result.get("type") == "message" and isinstance(result.get("content"), list):
            return _anthropic_view(result)
        if "done" in result and (isinstance(result.get("message"), dict) or "response" in result):
            return _ollama_view(result)
        if isinstance(result.get("candidates"), list):
            return _genai_view(result)
    return ResponseView(rest=result)


# ------------------------------------------------------------------------------------------------- diffs


def _json_path(parts: list[Any]) -> str:
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            path += f"[{orjson.dumps(part).decode() if isinstance(part, str) else part!r}]"
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


def _parsed(arguments: Any) -> tuple[bool, Any]:
    if isinstance(arguments, str):
        try:
            return True, orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return False, arguments
    return True, arguments


def tool_call_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[ToolCallChange]:
    """Per position: changed names, and argument changes by JSON path (parsed when both sides are JSON)."""
    changes: list[ToolCallChange] = []
    for index in range(max(len(old), len(new))):
        a = old[index] if index < len(old) else None
        b = new[index] if index < len(new) else None
        if a == b:
            continue
        change = ToolCallChange(
            index=index, old_name=a.get("name") if a else None, new_name=b.get("name") if b else None
        )
        if a is not None and b is not None:
            ok_a, args_a = _parsed(a.get("arguments"))
            ok_b, args_b = _parsed(b.get("arguments"))
            if ok_a and ok_b:
                change.arguments = field_changes(args_a, args_b)
                if not change.arguments and change.old_name == change.new_name:
                    continue  # the same JSON written differently
            else:
                change.arguments_text = word_diff(str(a.get("arguments")), str(b.get("arguments")))
        changes.append(change)
    return changes


# --------------------------------------------------------------------------------------------- comparing


@dataclass(slots=True)
class Side:
    """One side of a pair as the diff sees it: the file, its facts, and its volatile fields set aside."""

    body: Any
    is_streaming: bool
    facts: Facts
    request: Any
    error: dict[str, Any]
    found: Found
    found_in_request: Found
    volatility: Volatility
    _view: ResponseView | None = None
    view_found: Found = field(default_factory=dict)
    _chunks: int = 0
    warnings: list[str] = field(default_factory=list)

    def view(self) -> ResponseView:
        """The assembled answer, projected (computed once, only when a comparison needs it)."""
        if self._view is None:
            assembled = assemble_body(self.body, is_streaming=self.is_streaming)
            self.warnings.extend(assembled.warnings)
            # The assembled result carries the ids and timestamps of the chunks it came from.
            stripped = strip_response(assembled.result, self.volatility, self.view_found)
            self._view = project_response(stripped, assembled.kind)
        return self._view


def prepare_side(raw: dict[str, Any], facts: Facts, volatility: Volatility) -> Side:
    """Project a recording for comparison: the request without url, endpoint and model (compared on their own)
    and without volatile fields; the error fields. The body is set aside per pair (`_bodies`)."""
    found: Found = {}
    found_in_request: Found = {}
    request = dict(raw["request"])
    for key in ("url", "endpoint", "model"):
        request.pop(key, None)
    body = request.get("body")
    if isinstance(body, dict) and "model" in body:
        request["body"] = {key: value for key, value in body.items() if key != "model"}
    payload = request.get("payload")
    if isinstance(payload, dict) and "model" in payload:
        request["payload"] = {key: value for key, value in payload.items() if key != "model"}
    request["test_id"] = facts.test_id
    response: dict[str, Any] = raw["response"]
    body = response.get("body")
    is_streaming = bool(response.get("is_streaming"))
    error = {
        "is_exception": bool(response.get("is_exception")),
        "status": response.get("status"),
        "exception_message": response.get("exception_message"),
        "exception_data": strip_response(response.get("exception_data"), volatility, found),
    }
    stripped = strip_request(request, volatility, found_in_request)
    if not stripped.get("provider_metadata"):
        # Only SDK versions (volatile), or nothing: the same as no metadata at all.
        stripped.pop("provider_metadata", None)
    return Side(
        body=body,
        is_streaming=is_streaming,
        facts=facts,
        request=stripped,
        error=error,
        found=found,
        found_in_request=found_in_request,
        volatility=volatility,
        _chunks=len(body) if is_streaming and isinstance(body, list) else 0,
    )


def _exact_bodies(old: Side, new: Side) -> tuple[bool, Found, Found]:
    """Whether the two response bodies are the same apart from volatile fields, and the volatile values of
    each: canonical bytes through a regex when both sides allow it, a walk otherwise."""
    volatility = old.volatility
    body_old, body_new = _sse_parsed(old.body), _sse_parsed(new.body)
    fast_old = strip_response_fast(body_old, volatility)
    fast_new = strip_response_fast(body_new, volatility) if fast_old is not None else None
    if fast_old is not None and fast_new is not None:
        return fast_old[0] == fast_new[0], fast_old[1], fast_new[1]
    found_old: Found = {}
    found_new: Found = {}
    same = strip_response(body_old, volatility, found_old) == strip_response(body_new, volatility, found_new)
    return same, found_old, found_new


def _sse_parsed(body: Any) -> Any:
    """A body of raw SSE lines with each `data: {...}` line parsed, so the ids inside are seen as volatile."""
    if not isinstance(body, list) or not any(isinstance(line, str) and line.startswith("data: {") for line in body):
        return body
    parsed: list[Any] = []
    for line in body:
        if isinstance(line, str) and line.startswith("data: {"):
            try:
                parsed.append(orjson.loads(line[6:]))
                continue
            except orjson.JSONDecodeError:
                pass
        parsed.append(line)
    return parsed


def _bodies(old: Side, new: Side) -> tuple[bool | None, Found, Found]:
    """Like `_exact_bodies`, but first a cheap look at the top level of each stream item: the same there means
    the same; a different number of items means different. None (undecided) otherwise, with the volatile
    values of the top level only."""
    body_old, body_new = old.body, new.body
    if body_old == body_new:
        return True, {}, {}
    top_old = strip_items_top(body_old, old.volatility)
    top_new = strip_items_top(body_new, new.volatility) if top_old is not None else None
    if top_old is None or top_new is None:
        return _exact_bodies(old, new)
    if top_old[1] != top_new[1]:
        return False, top_old[2], top_new[2]
    return (True if top_old[0] == top_new[0] else None), top_old[2], top_new[2]


def _merge(*founds: Found) -> Found:
    merged: Found = {}
    for found in founds:
        for key, values in found.items():
            merged.setdefault(key, set()).update(values)
    return merged


def _simple(old: Any, new: Any, path: str) -> FieldChange | None:
    return None if old == new else FieldChange(path=path, old=old, new=new)


def compare_sides(old: Side, new: Side) -> tuple[list[ChangeClass], Details]:
    """The classes of change between two prepared sides (all that apply) and their details."""
    classes: set[ChangeClass] = set()
    details = Details()
    details.request = field_changes(old.request, new.request)
    if details.request:
        classes.add("request")
    for name in ("endpoint", "url"):
        change = _simple(getattr(old.facts, name), getattr(new.facts, name), name)
        if change is not None:
            classes.add(name)
            setattr(details, name, change)
    details.model = _simple(old.facts.model, new.facts.model, "request.model")
    details.error = field_changes(old.error, new.error)
    if details.error:
        classes.add("error")
    # An answer against an exception: the error says it all; the vanished content, usage and ids are its echo.
    one_failed = old.error["is_exception"] != new.error["is_exception"]
    same_body, found_old, found_new = _bodies(old, new)
    if same_body is not True and not one_failed:
        a, b = old.view(), new.view()
        if a.text != b.text:
            classes.add("content")
            details.content = word_diff(a.text, b.text)
        details.content_fields = field_changes(a.rest, b.rest)
        if details.content_fields:
            classes.add("content")
        if a.reasoning != b.reasoning:
            classes.add("reasoning")
            details.reasoning = word_diff(a.reasoning, b.reasoning)
        details.tool_calls = tool_call_changes(a.tool_calls, b.tool_calls)
        if details.tool_calls:
            classes.add("tool_calls")
        details.finish_reason = _simple(a.finish_reason, b.finish_reason, "finish_reason")
        if details.finish_reason is not None:
            classes.add("finish_reason")
        stream_errors = field_changes(a.error, b.error)
        if stream_errors:
            classes.add("error")
            details.error.extend(
                FieldChange(path=f"stream_error{c.path.removeprefix('$')}", old=c.old, new=c.new) for c in stream_errors
            )
        details.usage = field_changes(a.usage, b.usage)
        if details.usage:
            classes.add("usage")
        if details.model is None:
            details.model = _simple(a.model, b.model, "response.model")
        both_streams = old.is_streaming and new.is_streaming
        response_classes = {"content", "reasoning", "tool_calls", "finish_reason", "usage", "error"}
        if not classes & response_classes and a.model == b.model:
            # The answers are the same: chunk boundaries moved, or only volatile values changed?
            if same_body is None:
                same_body, found_old, found_new = _exact_bodies(old, new)
            if not same_body and both_streams:
                classes.add("chunking")
                details.chunking = FieldChange(path="chunks", old=old._chunks, new=new._chunks)
        else:
            # Undecided bodies only had their top level looked at: the answers' own ids count too.
            found_old, found_new = _merge(found_old, old.view_found), _merge(found_new, new.view_found)
        # What the assembly had to say about one side only: the same oddity on both sides is not news.
        details.warnings = sorted(set(old.warnings) ^ set(new.warnings))
    if details.model is not None:
        classes.add("model")
    details.volatile = changed_fields(old.found_in_request, new.found_in_request)
    if not one_failed:
        found_old, found_new = _merge(old.found, found_old), _merge(new.found, found_new)
        details.volatile = sorted(set(details.volatile) | set(changed_fields(found_old, found_new)))
    if details.volatile:
        classes.add("volatile")
    _cap(details)
    return [name for name in CLASSES if name in classes], details


def _cap(details: Details) -> None:
    """Keep at most MAX_FIELD_CHANGES changes per list; count what was cut."""
    for name in ("request", "content_fields", "usage", "error"):
        changes: list[FieldChange] = getattr(details, name)
        if len(changes) > MAX_FIELD_CHANGES:
            details.truncated += len(changes) - MAX_FIELD_CHANGES
            setattr(details, name, changes[:MAX_FIELD_CHANGES])
    for call in details.tool_calls:
        if len(call.arguments) > MAX_FIELD_CHANGES:
            details.truncated += len(call.arguments) - MAX_FIELD_CHANGES
            call.arguments = call.arguments[:MAX_FIELD_CHANGES]


def compare(
    old: tuple[dict[str, Any], Facts], new: tuple[dict[str, Any], Facts], volatility: Volatility
) -> tuple[list[ChangeClass], Details]:
    """Classify the changes between two recordings, each given as its parsed JSON (a valid recording) and its
    facts."""
    return compare_sides(prepare_side(*old, volatility), prepare_side(*new, volatility))
