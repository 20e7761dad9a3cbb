"""Which fields change on every re-record (ids, timestamps, obfuscation, SDK versions) and how to set them aside."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

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
        "total_duration",  # Ollama timings
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
        "sdk_http_response",  # google-genai HTTP headers (Date, ...)
        "signature",  # Anthropic thinking signatures
        "created_timestamp",  # file processor
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
