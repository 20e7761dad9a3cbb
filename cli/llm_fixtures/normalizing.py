"""Upstream response normalization (`_normalize_response`): deterministic ids, zeroed timestamps."""

from __future__ import annotations

from collections import Counter
from typing import Any

EPOCH_TIMESTAMP = "1970-01-01T00:00:00.000000Z"
OLLAMA_DURATIONS = ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration")


def normalized_id(request_hash: str) -> str:
    """The id the recorder gives every response object of a request: `rec-<hash[:12]>`."""
    return f"rec-{request_hash[:12]}"


def hash_for_normalization(name: str) -> str:
    """The request hash a file name carries, for `rec-<hash12>` ids: the 64 (or 12) hex digits of
    `<hash>.json` or `models-<hash>-<digest8>.json`."""
    stem = name[:-5] if name.endswith(".json") else name
    if stem.startswith("models-"):
        parts = stem.split("-")
        if len(parts) == 3:
            return parts[1]
    return stem


def normalize_data(data: dict[str, Any], request_hash: str) -> tuple[dict[str, Any], list[str]]:
    """Upstream `_normalize_response` on one `__data__` object, top-level keys only. Returns a new dict (same
    key order) and the names of the fields it changed."""
    updates: dict[str, Any] = {}
    not_model = data.get("object") != "model"
    if "id" in data and not_model:
        updates["id"] = normalized_id(request_hash)
    if "created" in data and not_model:
        updates["created"] = 0
    if "created_at" in data:
        updates["created_at"] = EPOCH_TIMESTAMP
    for field in OLLAMA_DURATIONS:
        if field in data and data[field] is not None:
            updates[field] = 0
    changed = [key for key, value in updates.items() if _differs(data[key], value)]
    if not changed:
        return data, []
    return {**data, **{key: updates[key] for key in changed}}, changed


def _differs(old: Any, new: Any) -> bool:
    # 0 and 0.0 are the same normalized duration; a bool is never a normalized number.
    return type(old) is bool or old != new


def _normalize_item(item: Any, request_hash: str) -> tuple[Any, list[str]]:
    # The recorder normalizes only what it serialized from a pydantic object: an envelope.
    if not (isinstance(item, dict) and "__type__" in item and isinstance(item.get("__data__"), dict)):
        return item, []
    data, changed = normalize_data(item["__data__"], request_hash)
    if not changed:
        return item, []
    return {**item, "__data__": data}, changed


def normalize_response(raw: dict[str, Any], request_hash: str) -> tuple[dict[str, Any], list[str]]:
    """Apply upstream `_normalize_response` to the response body of a parsed recording (an envelope or a list
    of them). The request is never touched, so the file name stays valid. Returns the new raw dict (the
    input itself when nothing changed) and one description per changed field, such as
    `response.body[*].id -> rec-0123456789ab (12 of 12 objects)`."""
    response = raw.get("response")
    if not isinstance(response, dict):
        return raw, []
    body = response.get("body")
    counts: Counter[str] = Counter()
    examples: dict[str, Any] = {}
    if isinstance(body, list):
        new_items: list[Any] = []
        for item in body:
            new_item, changed = _normalize_item(item, request_hash)
            new_items.append(new_item)
            for field in changed:
                counts[field] += 1
                examples.setdefault(field, new_item["__data__"][field])
        new_body: Any = new_items
        where, total = "response.body[*]", len(body)
    else:
        new_body, changed = _normalize_item(body, request_hash)
        for field in changed:
            counts[field] += 1
            examples[field] = new_body["__data__"][field]
        where, total = "response.body", 1
    if not counts:
        return raw, []
    descriptions = [
        f"{where}.{field} -> {examples[field]!r}"
        + (f" ({counts[field]} of {total} objects)" if isinstance(body, list) else "")
        for field in counts
    ]
    return {**raw, "response": {**response, "body": new_body}}, descriptions
