"""Upstream response normalization (`_normalize_response`): deterministic ids, zeroed timestamps."""

from __future__ import annotations

from collections import Counter, deque
from itertools import repeat
from operator import itemgetter
from typing import Any

from llm_fixtures.ollamafields import DURATIONS as OLLAMA_DURATIONS

EPOCH_TIMESTAMP = "1970-01-01T00:00:00.000000Z"


def normalized_id(request_hash: str) -> str:
    """The id the recorder gives every response object of a request: `rec-<hash[:12]>`."""
    return f"rec-{request_hash[:12]}"


_MISSING = object()
_SIGNATURE = ("object", "id", "created", "created_at", *OLLAMA_DURATIONS)
_OLLAMA_FIELDS = frozenset(_SIGNATURE[3:])
_FIRST_THREE = itemgetter(*_SIGNATURE[:3])
_TYPE, _DATA = itemgetter("__type__"), itemgetter("__data__")


def _updates(data: dict[str, Any], record_id: str) -> dict[str, Any]:
    """The top-level fields of one `__data__` object that upstream `_normalize_response` would change, with
    their new values (read-only: nothing is copied)."""
    updates: dict[str, Any] = {}
    if data.get("object") != "model":
        if "id" in data and _differs(data["id"], record_id):
            updates["id"] = record_id
        if "created" in data and _differs(data["created"], 0):
            updates["created"] = 0
    if "created_at" in data and _differs(data["created_at"], EPOCH_TIMESTAMP):
        updates["created_at"] = EPOCH_TIMESTAMP
    for field in OLLAMA_DURATIONS:
        value = data.get(field)
        if value is not None and _differs(value, 0):
            updates[field] = 0
    return updates


def _differs(old: Any, new: Any) -> bool:
    # 0 and 0.0 are the same normalized duration; a bool is never a normalized number.
    return type(old) is bool or old != new


def normalize_data(data: dict[str, Any], request_hash: str) -> tuple[dict[str, Any], list[str]]:
    """Upstream `_normalize_response` on one `__data__` object, top-level keys only. Returns a new dict (same
    key order) and the names of the fields it changed."""
    updates = _updates(data, normalized_id(request_hash))
    if not updates:
        return data, []
    return {**data, **updates}, list(updates)


def _data_of(item: Any) -> dict[str, Any] | None:
    # The recorder normalizes only what it serialized from a pydantic object: an envelope.
    if isinstance(item, dict) and "__type__" in item:
        data = item.get("__data__")
        if isinstance(data, dict):
            return data
    return None


_Changes = tuple[Counter[str], dict[str, Any]]  # how many objects each field would change in, and its new value
_DURATIONS = frozenset(OLLAMA_DURATIONS)
_NUMBERS = (int, float, bool)


def _plain_signatures(items: list[Any]) -> tuple[tuple[str, ...], Counter[tuple[Any, ...]]] | None:
    """The fields of _SIGNATURE the items hold, and how many items share each tuple of their values, when every
    item is an envelope whose `__data__` is a dict with `object`, `id` and `created`, and `created_at` in all
    or none, no Ollama duration (then these are all `_updates` reads) and no bool among them: most bodies,
    counted by a few passes in C. None otherwise (Ollama's chunks, which have no `id`, among them)."""
    # Each pass is a C loop over every item (each touching its dict costs more than the test): no pass tests
    # types. Only a dict gives an itemgetter of string keys its values; anything else raises TypeError.
    try:
        deque(map(_TYPE, items), maxlen=0)  # KeyError when one has no `__type__`
        datas = list(map(_DATA, items))
        if all(map(_OLLAMA_FIELDS.isdisjoint, datas)):
            fields = _SIGNATURE[:3]
        elif all(map(_DURATIONS.isdisjoint, datas)) and all(map(dict.__contains__, datas, repeat("created_at"))):
            fields = _SIGNATURE[:4]  # chat chunks of providers that add `created_at`
        else:
            return None
        signatures = Counter(map(itemgetter(*fields), datas))
    except (KeyError, TypeError):  # no `__type__`, or an unhashable value where a scalar was expected
        return None
    # False == 0 and True == 1 as keys: a bool would be counted with the number it equals (a bool is never a
    # normalized number). Looked for only in a field where such a number is.
    for column, name in enumerate(fields):
        numbers = (signature[column] for signature in signatures if type(signature[column]) in _NUMBERS)
        if any(number in (0, 1) for number in numbers) and bool in set(map(type, map(itemgetter(name), datas))):
            return None
    return fields, signatures


def _changes_of_plain(fields: tuple[str, ...], signatures: Counter[tuple[Any, ...]], record_id: str) -> _Changes:
    """The changes of a body that `_plain_signatures` counted: decided once per signature."""
    counts: Counter[str] = Counter()
    examples: dict[str, Any] = {}
    for signature, number in signatures.items():
        if signature[0] == "model" and len(fields) == 3:
            continue  # an entry of a model list (each has its own id): nothing to change
        for field, value in _updates(dict(zip(fields, signature, strict=True)), record_id).items():
            counts[field] += number
            examples.setdefault(field, value)
    return counts, examples


def _changes_of_items(items: list[Any], record_id: str) -> _Changes:
    """The changes of any body, item by item."""
    counts: Counter[str] = Counter()
    examples: dict[str, Any] = {}
    # The chunks of a stream mostly repeat the same id and timestamps: decide once per distinct set of the
    # fields that matter: the fields of _SIGNATURE, or only its first three (read by one itemgetter) when the
    # chunk has no Ollama field.
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    missing = _MISSING
    for item in items:
        if not isinstance(item, dict) or "__type__" not in item:
            continue
        data = item.get("__data__")
        if not isinstance(data, dict):
            continue
        get = data.get
        if _OLLAMA_FIELDS.isdisjoint(data):  # most chunks: the three first fields say it all
            try:
                signature: tuple[Any, ...] = _FIRST_THREE(data)
            except KeyError:
                signature = (get("object", missing), get("id", missing), get("created", missing))
            first, second, third = signature
            # False == 0 and True == 1 as keys, but a bool is never a normalized number: never shared.
            has_bool = type(first) is bool or type(second) is bool or type(third) is bool
        else:  # an Ollama chunk
            signature = tuple([get(name, missing) for name in _SIGNATURE])
            has_bool = bool in map(type, signature)
        if has_bool:
            updates = _updates(data, record_id)
        else:
            try:
                updates = seen[signature]
            except KeyError:
                updates = seen[signature] = _updates(data, record_id)
            except TypeError:  # an unhashable value where a scalar was expected
                updates = _updates(data, record_id)
        if updates:
            for field, value in updates.items():
                counts[field] += 1
                examples.setdefault(field, value)
    return counts, examples


def describe_changes(raw: dict[str, Any], request_hash: str) -> list[str]:
    """What `normalize_response` would change, one description per field, such as
    `response.body[*].id -> 'rec-0123456789ab' (12 of 12 objects)`; [] when nothing. Read-only. A streamed
    response can hold a thousand chunks: this is the whole cost of the `normalization` check."""
    response = raw.get("response")
    if not isinstance(response, dict):
        return []
    body = response.get("body")
    record_id = normalized_id(request_hash)
    items: list[Any] = body if isinstance(body, list) else [body]
    plain = _plain_signatures(items)
    if plain is not None:
        counts, examples = _changes_of_plain(*plain, record_id)
    else:
        counts, examples = _changes_of_items(items, record_id)
    if not isinstance(body, list):
        return [f"response.body.{field} -> {examples[field]!r}" for field in counts]
    total = len(items)
    return [f"response.body[*].{field} -> {examples[field]!r} ({counts[field]} of {total} objects)" for field in counts]


def normalize_response(raw: dict[str, Any], request_hash: str) -> tuple[dict[str, Any], list[str]]:
    """Apply upstream `_normalize_response` to the response body of a parsed recording (an envelope or a list
    of them). The request is never touched, so the file name stays valid. Returns the new raw dict (the
    input itself when nothing changed) and `describe_changes`."""
    changes = describe_changes(raw, request_hash)
    if not changes:
        return raw, []
    response = raw["response"]
    body = response["body"]
    record_id = normalized_id(request_hash)

    def normalized(item: Any) -> Any:
        data = _data_of(item)
        updates = _updates(data, record_id) if data is not None else {}
        return {**item, "__data__": {**data, **updates}} if data is not None and updates else item

    new_body = [normalized(item) for item in body] if isinstance(body, list) else normalized(body)
    return {**raw, "response": {**response, "body": new_body}}, changes
