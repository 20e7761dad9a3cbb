"""The `secrets` check: API keys, tokens and private keys anywhere in a recording (the scanner of `scanning`),
authorization headers, and keys split across the chunks of a stored stream; reported masked."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from llm_fixtures.checking.findings import Finding
from llm_fixtures.scanning import (
    Allowlist,
    LineNumbers,
    SeenSecrets,
    credential_token,
    find_near,
    find_secrets,
    mask,
)

__all__ = [
    "AUTH_HEADERS",
    "MAX_LISTED",
    "Allowlist",
    "allowlist_of",
    "check_secrets",
    "folded_stream",
    "mask",
    "unlisted_finding",
]

AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key"})


def _finding(path: str, kind: str, secret: str, line: int | None) -> Finding:
    masked = mask(secret)
    where = f"on line {line}" if line is not None else "in the stream once its chunks are joined"
    details: dict[str, Any] = {"kind": kind, "masked": masked, "line": line}
    return Finding(
        path=path,
        check="secrets",
        status=kind,
        severity="error",
        message=f"{kind.replace('-', ' ')} {masked} {where}",
        details=details,
    )


def _header_secrets(headers: Any) -> list[tuple[str, str]]:
    """(header name, value) of every non-empty authorization or api-key header of a request."""
    if not isinstance(headers, dict):
        return []
    return [
        (name, str(value))
        for name, value in headers.items()
        if isinstance(name, str) and name.lower() in AUTH_HEADERS and value not in (None, "", [], {})
    ]


def _header_offsets(data: bytes, names: list[str]) -> list[int]:
    """Where each header's name is in the file (0 when it is not there as written): the headers are in the file
    in the order of the parsed object, so each is looked for from where the one before it was (`find_near`)."""
    offsets: list[int] = []
    cursor = 0
    for name in names:
        at = find_near(data, f'"{name}"'.encode(), cursor)
        cursor = at if at != -1 else cursor
        offsets.append(max(at, 0))
    return offsets


def folded_stream(response: Any) -> bytes:
    """The final message a stored stream folds into, as JSON (b"" for anything that is not a stream): a key
    the provider sent split over several chunks is whole only there."""
    if not isinstance(response, dict) or response.get("is_streaming") is not True:
        return b""
    body = response.get("body")
    if not isinstance(body, list) or len(body) < 2:
        return b""
    from llm_fixtures.assembling import fold_body

    _kind, result, _warnings = fold_body(body, is_streaming=True)
    try:
        return orjson.dumps(result)
    except TypeError:  # a lone surrogate (or an integer orjson cannot hold): ASCII escapes keep the rest
        import json

        try:
            return json.dumps(result, default=repr).encode()
        except (ValueError, RecursionError):
            return b""


# The strings of a chat stream by where the fold puts them: (choice, key) or (choice, "tool_calls", index, ...).
_Pieces = dict[tuple[Any, ...], list[str]]
_SCALARS = (int, float, bool)  # a delta's number or flag: the last one wins, a value of one chunk


def _chat_pieces(body: list[Any]) -> _Pieces | None:
    """The strings a chat completion stream spreads over its chunks, by where they go in the folded message:
    each choice's delta keys (`content`, `refusal`, ...), its tool calls' fields and its `function_call`. None
    when the body is not a plain chat chunk stream: the caller folds it. One loop over the chunks, several times
    cheaper than the fold, which builds the whole message (every string it joins is the join of one of these
    lists, or a value of one chunk, which the scan of the file's own bytes has seen)."""
    by_choice: dict[int, dict[Any, list[str]]] = {}
    chunk_type = None  # the last `__type__` seen to be a chat chunk's (every chunk has the same)
    for item in body:
        if type(item) is not dict:
            return None
        kind, data = item.get("__type__"), item.get("__data__")
        if kind != chunk_type:
            if type(kind) is not str or "chat_completion_chunk" not in kind:
                return None
            chunk_type = kind
        if type(data) is not dict:
            return None
        if data.get("object") != "chat.completion.chunk":
            if data.get("object") in (None, "chat.completion"):
                return None
            continue  # Azure's prompt_filter_results pseudo-chunk, which the fold skips too
        choices = data.get("choices")
        if type(choices) is not list:
            if choices is None:
                continue
            return None
        for choice in choices:
            if type(choice) is not dict:
                return None
            delta = choice.get("delta")
            if type(delta) is not dict:
                if delta is None:
                    continue
                return None
            index = choice.get("index")
            index = index if type(index) is int else 0  # as the fold keys choices (a bool is no index)
            pieces = by_choice.get(index)
            if pieces is None:
                pieces = by_choice[index] = {}
            for key, value in delta.items():
                if value is None:
                    continue
                if type(value) is str:
                    held = pieces.get(key)
                    if held is None:
                        pieces[key] = [value]
                    else:
                        held.append(value)
                elif type(value) in _SCALARS:
                    continue  # the last value wins: a value of one chunk
                elif key == "tool_calls" and type(value) is list:
                    for call in value:
                        if not _add_tool_call(pieces, call):
                            return None
                elif key == "function_call" and type(value) is dict:
                    if not _add_strings(pieces, (key,), value):
                        return None
                else:
                    return None
    return {
        (index, *(key if type(key) is tuple else (key,))): parts
        for index, pieces in by_choice.items()
        for key, parts in pieces.items()
    }


def _add_tool_call(pieces: dict[Any, list[str]], call: Any) -> bool:
    """A tool call fragment's strings, by its slot; False when the fold could put it elsewhere than its `index`
    says (no index, or another call's id at that index)."""
    if type(call) is not dict or type(call.get("index")) is not int:
        return False
    slot = ("tool_calls", call["index"])
    call_id = call.get("id")
    if isinstance(call_id, str) and call_id:
        held = pieces.get((*slot, "id"))
        if held and held[0] != call_id:
            return False
    function = call.get("function")
    strings = {key: value for key, value in call.items() if key != "function"}
    if function is not None and (type(function) is not dict or not _add_strings(pieces, (*slot, "function"), function)):
        return False
    return _add_strings(pieces, slot, strings)


def _add_strings(pieces: dict[Any, list[str]], where: tuple[Any, ...], values: dict[str, Any]) -> bool:
    for key, value in values.items():
        if type(value) is str:
            pieces.setdefault((*where, key), []).append(value)
        elif value is not None and type(value) not in _SCALARS:
            return False
    return True


def _may_hold_split_key(response: Any, reported: Iterable[str]) -> bool:
    """Whether the folded message of a stored stream may hold a key that is not in `reported` (the keys found in
    the file's bytes): always for a stream that is not a plain chat chunk stream; for one that is, when one of
    the strings its chunks spread holds a key once joined."""
    if not isinstance(response, dict) or response.get("is_streaming") is not True:
        return False
    body = response.get("body")
    if not isinstance(body, list) or len(body) < 2:
        return False
    pieces = _chat_pieces(body)
    if pieces is None:
        return True
    joined = []  # each string as JSON, one after the other: a key never spans a quote, so one scan reads them all
    for parts in pieces.values():
        if len(parts) > 1:
            text = "".join(parts)
            try:
                joined.append(orjson.dumps(text))
            except TypeError:  # a lone surrogate
                joined.append(b'"' + text.encode("utf-8", "surrogatepass") + b'"')
    found = find_secrets(b"".join(joined))
    if not found:  # as for almost every stream
        return False
    known = SeenSecrets(reported)
    return any(not known.covers(secret.text) for secret in found)


def check_secrets(
    path: str,
    data: bytes,
    allowlist: Allowlist | None = None,
    *,
    headers: Any = None,
    images: Sequence[tuple[int, int, int]] = (),
    response: Any = None,
) -> list[Finding]:
    """One error per distinct secret (with its first line), masked. `headers` are the request's headers,
    when the file parsed: a non-empty authorization or api-key header is a secret whatever its form.
    `images` are the file's inline images (`size.image_spans`), whose base64 text need not all be searched.
    `response`, when the file parsed: a stored stream is searched once folded too (`folded_stream`), when
    the strings its chunks spread may hold a key the bytes do not (`_may_hold_split_key`). The first MAX_LISTED
    secrets are named; any more are counted in one `unlisted` finding."""
    allowlist = allowlist or Allowlist()
    header_values = _header_secrets(headers)
    values = [value for _name, value in header_values]
    # Allowed or not, neither they nor the tokens in them (`Bearer <token>`) are reported again
    reported = SeenSecrets([*values, *(credential_token(value) for value in values)])
    lines = LineNumbers(data)
    findings: list[Finding] = []
    unlisted = 0
    if header_values:
        at = lines.of_each(_header_offsets(data, [name for name, _value in header_values]))
        first_lines: dict[str, int] = {}  # each distinct value once, on the line of its first header
        for value, number in zip(values, at, strict=True):
            first_lines.setdefault(value, number)
        for value, number in first_lines.items():
            if allowlist.allows(value):
                continue
            if len(findings) >= MAX_LISTED:
                unlisted += 1
            else:
                findings.append(_finding(path, "auth-header", value, number))
    in_data = find_secrets(data, images, one_pass=True)
    # The stream is folded only when its joined strings may hold a key that the file's bytes do not (a key split
    # over its chunks): folding every stream cost a fifth of a check.
    known = itertools.chain(values, (secret.text for secret in in_data))
    folded = folded_stream(response) if _may_hold_split_key(response, known) else b""
    for source, secrets in ((data, in_data), (b"", find_secrets(folded) if folded else [])):
        for secret in secrets:
            if len(findings) >= MAX_LISTED:  # the rest are counted (each one once), not listed
                if secret.text not in reported and not allowlist.allows(secret.text):
                    unlisted += 1
                reported.add(secret.text)
                continue
            if reported.covers(secret.text):
                continue
            reported.add(secret.text)
            if allowlist.allows(secret.text):
                continue
            line = lines.of(secret.start) if source else None
            findings.append(_finding(path, secret.kind, secret.text, line))
    if unlisted:
        findings.append(unlisted_finding(path, unlisted))
    return findings


# A file holds a handful of secrets, or it was made to hold thousands: it is named with the first ones.
MAX_LISTED = 100


def unlisted_finding(path: str, count: int) -> Finding:
    """The one finding that counts the secrets of a file beyond the first MAX_LISTED (recordings and cassettes)."""
    return Finding(
        path=path,
        check="secrets",
        status="unlisted",
        severity="error",
        message=f"{count:,} more {'secret' if count == 1 else 'secrets'} in the file, not listed "
        f"(the first {MAX_LISTED} are)",
        details={"kind": "unlisted", "count": count},
    )


def allowlist_of(entries: Sequence[str]) -> Allowlist:
    return Allowlist(tuple(entries))
