"""Which fields change on every re-record (ids, timestamps, obfuscation, SDK versions) and how to set them aside."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

import orjson

from llm_fixtures.ollamafields import DURATIONS

# Keys that churn on every re-record wherever they appear in a response body. `id` is the exception that
# proves the rule: a model list entry's `id` is the model's name, so it is kept when the object says
# `"object": "model"`.
RESPONSE_NAMES: frozenset[str] = frozenset(
    {
        "id",  # completion, chunk, message, tool-call and output item ids (rec-..., chatcmpl-..., call_..., msg_...)
        "created",  # unix time; also Model.created
        "created_at",  # Ollama / watsonx / Responses timestamps
        "updated",  # Gemini Interactions
        "create_time",  # google-genai
        "expires_at",  # Ollama /api/ps
        "response_id",  # google-genai
        "request_id",  # Anthropic, Gemini
        "item_id",  # Responses stream events
        "call_id",  # Responses function_call ids
        "obfuscation",  # OpenAI stream padding
        "system_fingerprint",
        "sdk_http_response",  # google-genai HTTP headers (Date, ...)
        "signature",  # Anthropic thinking signatures
        "created_timestamp",  # file processor
        *DURATIONS,  # Ollama timings
    }
)

# Paths inside the request (`*` is any key or list item): tool-call ids fed back into the next request, and the
# SDK versions the recorder adds. Names alone would be too broad here: a tool's JSON schema may have an `id`.
REQUEST_PATHS: tuple[str, ...] = (
    "body.messages.*.tool_calls.*.id",
    "body.messages.*.tool_call_id",
    "body.input.*.call_id",
    "body.input.*.id",
    "payload.messages.*.content.*.id",
    "payload.messages.*.content.*.tool_use_id",
    "provider_metadata.openai_sdk_version",
    "provider_metadata.ollama_sdk_version",
    "provider_metadata.vllm_server_version",
)

Pattern = tuple[str, ...]
# What was set aside, by key name -> the distinct values seen (as canonical JSON).
Found = dict[str, set[str]]


@dataclass(frozen=True, slots=True)
class Volatility:
    """The volatile fields in force: key names anywhere in a response (and, for names the user adds, in the
    request too), and dotted paths inside the request or the response."""

    response_names: frozenset[str]
    request_names: frozenset[str]
    request_paths: tuple[Pattern, ...]
    response_paths: tuple[Pattern, ...]

    def describe(self) -> list[str]:
        """Every entry as the user would write it, sorted."""
        entries = set(self.response_names) | set(self.request_names)
        entries.update("request." + ".".join(p) for p in self.request_paths)
        entries.update("response." + ".".join(p) for p in self.response_paths)
        return sorted(entries)


def build_volatility(extra: Iterable[str] = ()) -> Volatility:
    """The built-in volatile fields plus `extra` from `[tool.fixtures] volatile` / `[tool.fixtures.diff] volatile`.

    An extra entry is a bare key name (volatile anywhere, request and response), or a dotted path starting with
    `request.` or `response.` where `*` matches any key or list item."""
    request_names: set[str] = set()
    response_names = set(RESPONSE_NAMES)
    request_paths = [tuple(p.split(".")) for p in REQUEST_PATHS]
    response_paths: list[Pattern] = []
    for entry in extra:
        entry = entry.strip()
        if not entry:
            continue
        head, dot, rest = entry.partition(".")
        if dot and head == "request" and rest:
            request_paths.append(tuple(rest.split(".")))
        elif dot and head == "response" and rest:
            response_paths.append(tuple(rest.split(".")))
        else:
            request_names.add(entry)
            response_names.add(entry)
    return Volatility(
        response_names=frozenset(response_names),
        request_names=frozenset(request_names),
        request_paths=tuple(request_paths),
        response_paths=tuple(response_paths),
    )


def _fingerprint(value: Any) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(value)


def _strip(value: Any, names: frozenset[str], patterns: tuple[Pattern, ...], found: Found) -> Any:
    if isinstance(value, dict):
        keep_id = value.get("object") == "model"
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in names and not (keep_id and key == "id"):
                found.setdefault(key, set()).add(_fingerprint(item))
                continue
            below: tuple[Pattern, ...] = ()
            hit = False
            for pattern in patterns:
                if pattern[0] == key or pattern[0] == "*":
                    if len(pattern) == 1:
                        hit = True
                        break
                    below += (pattern[1:],)
            if hit:
                found.setdefault(key, set()).add(_fingerprint(item))
                continue
            out[key] = _strip(item, names, below, found) if isinstance(item, dict | list) else item
        return out
    if isinstance(value, list):
        below = tuple(p[1:] for p in patterns if p[0] == "*" and len(p) > 1)
        return [_strip(item, names, below, found) if isinstance(item, dict | list) else item for item in value]
    return value


def strip_response(value: Any, volatility: Volatility, found: Found) -> Any:
    """A copy of a response object (or of part of one) without its volatile fields; what was removed goes into
    `found`."""
    return _strip(value, volatility.response_names, volatility.response_paths, found)


def strip_request(value: Any, volatility: Volatility, found: Found) -> Any:
    """A copy of a request object without its volatile fields; what was removed goes into `found`."""
    return _strip(value, volatility.request_names, volatility.request_paths, found)


def changed_fields(old: Found, new: Found) -> list[str]:
    """The volatile fields whose values differ between two sides, sorted."""
    return sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))


_SCALAR = r'(?:"[^"\\]*(?:\\.[^"\\]*)*"|-?[0-9][0-9.eE+-]*|null|true|false)'


@dataclass(frozen=True, slots=True)
class _Patterns:
    after_comma: re.Pattern[bytes]
    after_brace: re.Pattern[bytes]
    member: re.Pattern[bytes]


@lru_cache(maxsize=8)
def _patterns(names: frozenset[str]) -> _Patterns:
    keys = "|".join(re.escape(orjson.dumps(name).decode()[1:-1]) for name in sorted(names))
    member = f'"(?:{keys})":{_SCALAR}'
    # Compact JSON, in two passes that each start with a literal (fast to scan for): runs of volatile members
    # after a comma, then the ones left right after `{` with the comma that follows them. Strings never
    # match: their quotes are escaped.
    return _Patterns(
        after_comma=re.compile(f",{member}(?:,{member})*".encode()),
        after_brace=re.compile(f"\\{{{member}(?:,{member})*,?".encode()),
        # Also matches the opening of a nested value, which sends the caller to the slow path.
        member=re.compile(f'"({keys})":({_SCALAR}|[\\[{{])'.encode()),
    )


def strip_response_fast(value: Any, volatility: Volatility) -> tuple[bytes, Found] | None:
    """The same as `strip_response`, as canonical JSON bytes, for the common case where every volatile value
    is a scalar: regexes over orjson's output instead of a walk in Python (a 1,400-chunk stream in a few
    milliseconds). None when the fast path does not apply (model lists, nested volatile values, paths)."""
    if volatility.response_paths or not volatility.response_names:
        return None
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    if b'"object":"model"' in data:
        return None
    patterns = _patterns(volatility.response_names)
    by_key: dict[bytes, set[bytes]] = {}
    for key, scalar in set(patterns.member.findall(data)):
        if scalar in (b"[", b"{"):
            return None
        by_key.setdefault(key, set()).add(scalar)
    found: Found = {
        orjson.loads(b'"' + key + b'"'): {value.decode() for value in values} for key, values in by_key.items()
    }
    return patterns.after_brace.sub(b"{", patterns.after_comma.sub(b"", data)), found


_ABSENT = object()


def strip_items_top(body: Any, volatility: Volatility) -> tuple[Any, int, Found] | None:
    """A stream body with the volatile keys of each item's top level set aside (ids, `created`, `obfuscation`,
    `system_fingerprint` of every chunk): a cheap first look, as (something to compare, number of items,
    volatile values). Nested volatile values stay, so two equal results mean the bodies are the same apart
    from volatile fields; unequal ones prove nothing unless the numbers of items differ. None when the body
    is not a non-empty list of objects, or paths are configured."""
    if volatility.response_paths or not isinstance(body, list) or not body:
        return None
    if not all(isinstance(item, dict) for item in body):
        return None
    types = [item.get("__type__") for item in body]
    datas = [item.get("__data__") if kind is not None else item for item, kind in zip(body, types, strict=True)]
    if not all(isinstance(data, dict) for data in datas):
        return None
    volatile = set().union(*datas) & volatility.response_names
    if "id" in volatile and any(data.get("object") == "model" for data in datas):
        return None
    found: Found = {}
    for key in volatile:
        try:
            values = {data.get(key, _ABSENT) for data in datas}
        except TypeError:  # a nested volatile value: the exact look handles it
            return None
        values.discard(_ABSENT)
        found[key] = {_fingerprint(value) for value in values}
    first = datas[0].keys()
    if all(data.keys() == first for data in datas):
        # The usual stream: every item has the same keys; one C-level getter per item, no dict built.
        keys = sorted(first - volatile)
        if not keys:
            return (types, (), None), len(body), found
        getter = itemgetter(*keys)
        return (types, tuple(keys), [getter(data) for data in datas]), len(body), found
    kept = [{key: value for key, value in data.items() if key not in volatile} for data in datas]
    return (types, None, kept), len(body), found
