"""The `secrets` check: API keys, tokens and private keys anywhere in a recording (the scanner of `scanning`),
authorization headers, and keys split across the chunks of a stored stream; reported masked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from llm_fixtures.checking.findings import Finding
from llm_fixtures.scanning import Allowlist, find_secrets, mask

__all__ = ["AUTH_HEADERS", "Allowlist", "allowlist_of", "check_secrets", "folded_stream", "mask"]

AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key"})


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


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
    `response`, when the file parsed: a stored stream is searched once folded too (`folded_stream`)."""
    allowlist = allowlist or Allowlist()
    reported: list[str] = []
    findings: list[Finding] = []
    for name, value in _header_secrets(headers):
        reported.append(value)  # allowed or not, the tokens inside it are not reported again
        if allowlist.allows(value):
            continue
        findings.append(_finding(path, "auth-header", value, _line_of(data, max(data.find(f'"{name}"'.encode()), 0))))
    folded = folded_stream(response)
    for source, secrets in ((data, find_secrets(data, images)), (b"", find_secrets(folded) if folded else [])):
        for secret in secrets:
            if any(secret.text in earlier for earlier in reported):
                continue
            reported.append(secret.text)
            if allowlist.allows(secret.text):
                continue
            line = _line_of(source, secret.start) if source else None
            findings.append(_finding(path, secret.kind, secret.text, line))
    return findings


def allowlist_of(entries: Sequence[str]) -> Allowlist:
    return Allowlist(tuple(entries))
