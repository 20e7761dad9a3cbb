"""Comparing two recordings by what replay would do with them: each side's request and neutral answer
(`assembling.final`), its stored types, streaming flag and file name; then every class of change that applies."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from llm_fixtures.diffing.changes import field_changes, tool_call_changes, word_diff
from llm_fixtures.diffing.report import CLASSES, ChangeClass, Details, FieldChange, NameChange, PairedBy
from llm_fixtures.diffing.volatility import (
    Found,
    Volatility,
    changed_fields,
    strip_items_top,
    strip_request,
    strip_response,
    strip_response_fast,
)
from llm_fixtures.facts import Facts

if TYPE_CHECKING:
    from llm_fixtures.assembling.final import Choice, FinalMessage

MAX_FIELD_CHANGES = 50
# The classes that say the answer itself differs (beyond its chunk boundaries).
_ANSWER_CLASSES = frozenset(
    {"content", "reasoning", "tool_calls", "finish_reason", "usage", "models", "metadata", "error", "type"}
)


@dataclass(slots=True)
class Side:
    """One side of a pair as the diff sees it: the file, its facts, and its volatile fields set aside."""

    raw: dict[str, Any]
    body: Any
    is_streaming: bool
    facts: Facts
    request: Any
    error: dict[str, Any]
    found: Found
    found_in_request: Found
    volatility: Volatility
    _answer: FinalMessage | None = None
    answer_found: Found = field(default_factory=dict)
    chunks: int = 0
    warnings: list[str] = field(default_factory=list)

    def answer(self) -> FinalMessage:
        """The neutral answer, its volatile fields set aside (computed once, only when a comparison needs it)."""
        if self._answer is None:
            from llm_fixtures.assembling.final import answer_source, final_message

            kind, source, warnings = answer_source(self.body, is_streaming=self.is_streaming)
            self.warnings.extend(warnings)
            if isinstance(source, dict):
                from llm_fixtures.assembling import comparable

                # A stream and its non-stream twin differ in how they were folded, not in what they say.
                source = comparable(source)
            # The assembled result carries the ids and timestamps of the chunks it came from.
            self._answer = final_message(kind, strip_response(source, self.volatility, self.answer_found))
        return self._answer


def prepare_side(raw: dict[str, Any], facts: Facts, volatility: Volatility) -> Side:
    """A recording made ready to compare: the request without url, endpoint and model (compared on their own)
    and without volatile fields, the test id beside it; the error fields. The body is looked at per pair."""
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
        raw=raw,
        body=body,
        is_streaming=is_streaming,
        facts=facts,
        request=stripped,
        error=error,
        found=found,
        found_in_request=found_in_request,
        volatility=volatility,
        chunks=len(body) if is_streaming and isinstance(body, list) else 0,
    )


# ------------------------------------------------------------------------------------------------- bodies


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
    """A body of raw event-stream lines as its events' data (parsed when it is JSON), so that the ids inside
    are seen as volatile; any other body as it is."""
    if not isinstance(body, list) or not body or not all(isinstance(line, str) for line in body):
        return body
    from llm_fixtures.assembling.sse import looks_like_sse, parse_lines

    if not looks_like_sse(body):
        return body
    parsed: list[Any] = []
    for event in parse_lines(body):
        try:
            parsed.append([event.name, orjson.loads(event.data)])
        except orjson.JSONDecodeError:
            parsed.append([event.name, event.data])
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


def stored_types(body: Any) -> list[str]:
    """The distinct `__type__` names a body is stored under (its envelope, or each stream item's), sorted: the
    classes replay builds."""
    items = body if isinstance(body, list) else [body]
    return sorted({name for item in items if isinstance(item, dict) and isinstance(name := item.get("__type__"), str)})


def _one_or_all(names: list[str]) -> Any:
    return names[0] if len(names) == 1 else (names or None)


def content_fingerprint(side: Side) -> str:
    """A digest of what a recording asks and answers, volatile fields and test id left out: two recordings with
    the same digest are the same recording, wherever they are stored."""
    request = {key: value for key, value in side.request.items() if key != "test_id"}
    body = _sse_parsed(side.body)
    fast = strip_response_fast(body, side.volatility)
    answer = fast[0] if fast is not None else _canonical(strip_response(body, side.volatility, {}))
    digest = hashlib.sha1(_canonical([request, side.is_streaming, side.error, stored_types(side.body)]))
    digest.update(answer)
    return digest.hexdigest()


def request_fingerprint(side: Side) -> str | None:
    """A digest of what a recording asks (volatile fields and test id left out), for a request that says something
    (a body or a payload): the same request stored elsewhere and re-recorded is one recording moved."""
    request = {key: value for key, value in side.request.items() if key != "test_id"}
    if not request.get("body") and not request.get("payload") and not request.get("tool_kwargs"):
        return None
    facts = side.facts
    return hashlib.sha1(_canonical([request, facts.endpoint, facts.url, facts.model])).hexdigest()


def _canonical(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        import json

        return json.dumps(value, sort_keys=True, default=repr).encode()


# ------------------------------------------------------------------------------------------------- names


# Verdicts of a name the current recorder never looks up (`unverifiable` makes no claim either way).
_LOST = frozenset({"mismatch", "stale"})


def _name_may_differ(old: Side, new: Side) -> bool:
    """Whether what the name is computed from changed: the name itself, the request, the test id, or (for a model
    list, whose name ends with a digest of its model ids) the answer."""
    return (
        old.facts.name != new.facts.name
        or old.raw["request"] != new.raw["request"]
        or old.facts.test_id != new.facts.test_id
        or new.facts.model_list
    )


def name_change(old: Side, new: Side) -> NameChange | None:
    """When replay found the old file by its name and cannot find the new one (its name is not what the current
    recorder computes for its request): the names and the expected one. None otherwise, and when either name
    cannot be verified (no claim is made)."""
    from llm_fixtures.hashing import KEY_ERRORS, verify_name

    try:
        verdict = verify_name(new.facts.name, new.raw)
        if verdict.status not in _LOST or verify_name(old.facts.name, old.raw).status != "ok":
            return None
    except KEY_ERRORS:
        return None
    return NameChange(
        old=old.facts.name,
        new=new.facts.name,
        expected=verdict.expected_name,
        status=verdict.status,
        message=verdict.message,
    )


# --------------------------------------------------------------------------------------------- answers


def _join(parts: Sequence[str | None]) -> str | None:
    """The texts of every choice as one text (each headed by its label when there are several)."""
    present = [part for part in parts if part is not None]
    if not present:
        return None
    if len(parts) == 1:
        return present[0]
    return "\n\n".join(f"[choice {index}]\n{part or ''}" for index, part in enumerate(parts))


def _metadata(answer: FinalMessage) -> dict[str, Any]:
    """Everything an answer holds besides its text, reasoning, tool calls, finish reason, usage, model, error and
    model list: its kind, the other top-level fields, and per choice the role, the other fields and blocks."""
    found: dict[str, Any] = {"kind": answer.kind, **answer.rest}
    choices = [_choice_metadata(choice) for choice in answer.choices]
    if any(choices):
        found["choices"] = choices
    return found


def _choice_metadata(choice: Choice) -> dict[str, Any]:
    found: dict[str, Any] = dict(choice.rest)
    if choice.role is not None:
        found["role"] = choice.role
    if choice.other:
        found["other"] = choice.other
    return found


def _models_by_name(models: list[Any] | None) -> dict[str, Any] | None:
    """A model listing keyed by model name, so that a model added or dropped is one change, not a shift."""
    if models is None:
        return None
    keyed: dict[str, Any] = {}
    for index, entry in enumerate(models):
        name = next(
            (
                entry[key]
                for key in ("id", "model", "name")
                if isinstance(entry, dict) and isinstance(entry.get(key), str)
            ),
            f"#{index}",
        )
        keyed[name if name not in keyed else f"{name}#{index}"] = entry
    return keyed


def _compare_answers(a: FinalMessage, b: FinalMessage, classes: set[ChangeClass], details: Details) -> None:
    texts_a, texts_b = _join([c.text for c in a.choices]), _join([c.text for c in b.choices])
    if a.kind == b.kind == "body":
        details.content_fields = field_changes(a.rest.get("body"), b.rest.get("body"))
    if texts_a != texts_b:
        details.content = word_diff(texts_a, texts_b)
    refusals_a, refusals_b = _join([c.refusal for c in a.choices]), _join([c.refusal for c in b.choices])
    if refusals_a != refusals_b:
        details.refusal = word_diff(refusals_a, refusals_b)
    if details.content is not None or details.refusal is not None or details.content_fields:
        classes.add("content")
    reasoning_a, reasoning_b = _join([c.reasoning for c in a.choices]), _join([c.reasoning for c in b.choices])
    if reasoning_a != reasoning_b:
        classes.add("reasoning")
        details.reasoning = word_diff(reasoning_a, reasoning_b)
    details.tool_calls = tool_call_changes(
        [call for c in a.choices for call in c.tool_calls], [call for c in b.choices for call in c.tool_calls]
    )
    if details.tool_calls:
        classes.add("tool_calls")
    finishes_a, finishes_b = [c.finish_reason for c in a.choices], [c.finish_reason for c in b.choices]
    if finishes_a != finishes_b:
        classes.add("finish_reason")
        details.finish_reason = FieldChange(path="finish_reason", old=_one(finishes_a), new=_one(finishes_b))
    details.usage = field_changes(a.usage, b.usage)
    if details.usage:
        classes.add("usage")
    details.models = field_changes(_models_by_name(a.models), _models_by_name(b.models))
    if details.models:
        classes.add("models")
    if a.kind != "body" or b.kind != "body":
        details.metadata = field_changes(_metadata(a), _metadata(b))
        if details.metadata:
            classes.add("metadata")
    stream_errors = field_changes(a.error, b.error)
    if stream_errors:
        classes.add("error")
        details.error.extend(
            FieldChange(path=f"answer.error{c.path.removeprefix('$')}", old=c.old, new=c.new) for c in stream_errors
        )


def _one(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else (values or None)


# ----------------------------------------------------------------------------------------------- compare


def _merge(*founds: Found) -> Found:
    merged: Found = {}
    for found in founds:
        for key, values in found.items():
            merged.setdefault(key, set()).update(values)
    return merged


def _simple(old: Any, new: Any, path: str) -> FieldChange | None:
    return None if old == new else FieldChange(path=path, old=old, new=new)


def compare_sides(
    old: Side, new: Side, *, paired_by: PairedBy = "path", check_names: bool = True
) -> tuple[list[ChangeClass], Details]:
    """The classes of change between two prepared sides (all that apply) and their details. A `moved` pair's
    test id is its move, not a change of its request; `check_names` (off when two files are compared whatever
    their names) asks whether replay still finds the new file."""
    classes: set[ChangeClass] = set()
    details = Details()
    if paired_by == "moved":
        details.moved = _simple(old.facts.test_id, new.facts.test_id, "test_id")
        details.request = field_changes(
            {k: v for k, v in old.request.items() if k != "test_id"},
            {k: v for k, v in new.request.items() if k != "test_id"},
        )
    else:
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
    if not one_failed:
        details.streaming = _simple(old.is_streaming, new.is_streaming, "is_streaming")
        if details.streaming is not None:
            classes.add("streaming")
    if check_names and _name_may_differ(old, new):
        details.name = name_change(old, new)
        if details.name is not None:
            classes.add("name")
    same_body, found_old, found_new = _bodies(old, new)
    if same_body is not True and not one_failed:
        details.type = _simple(_one_or_all(stored_types(old.body)), _one_or_all(stored_types(new.body)), "__type__")
        if details.type is not None:
            classes.add("type")
        a, b = old.answer(), new.answer()
        _compare_answers(a, b, classes, details)
        if details.model is None:
            details.model = _simple(a.model, b.model, "response.model")
        if not classes & _ANSWER_CLASSES and a.model == b.model:
            # The answers are the same: chunk boundaries moved, or only volatile values changed?
            if same_body is None:
                same_body, found_old, found_new = _exact_bodies(old, new)
            if not same_body and old.is_streaming and new.is_streaming:
                classes.add("chunking")
                details.chunking = FieldChange(path="chunks", old=old.chunks, new=new.chunks)
        else:
            # Undecided bodies only had their top level looked at: the answers' own ids count too.
            found_old, found_new = _merge(found_old, old.answer_found), _merge(found_new, new.answer_found)
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
    for name in ("request", "content_fields", "usage", "models", "metadata", "error"):
        changes: list[FieldChange] = getattr(details, name)
        if len(changes) > MAX_FIELD_CHANGES:
            details.truncated += len(changes) - MAX_FIELD_CHANGES
            setattr(details, name, changes[:MAX_FIELD_CHANGES])
    for call in details.tool_calls:
        if len(call.arguments) > MAX_FIELD_CHANGES:
            details.truncated += len(call.arguments) - MAX_FIELD_CHANGES
            call.arguments = call.arguments[:MAX_FIELD_CHANGES]


def compare(
    old: tuple[dict[str, Any], Facts],
    new: tuple[dict[str, Any], Facts],
    volatility: Volatility,
    *,
    paired_by: PairedBy = "path",
    check_names: bool = True,
) -> tuple[list[ChangeClass], Details]:
    """Classify the changes between two recordings, each given as its parsed JSON (a valid recording) and its
    facts."""
    return compare_sides(
        prepare_side(*old, volatility), prepare_side(*new, volatility), paired_by=paired_by, check_names=check_names
    )
