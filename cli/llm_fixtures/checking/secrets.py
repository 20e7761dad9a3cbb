"""The `secrets` check: API keys, tokens and private keys anywhere in a recording, reported masked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llm_fixtures.checking.findings import Finding

# (kind, anchor, offsets, pattern). Each anchor is a regex that starts with a literal, which the regex engine
# scans for at C speed (faster than bytes.find, and one pass over the file per distinct anchor, so kinds share
# anchors where they can); the pattern must match at the anchor's position minus one of `offsets`. An anchor
# only narrows the candidates: every place a pattern can match at is a place its anchor is found. Group 1 is
# the secret itself. Lookbehinds keep `sk-` from matching inside words such as `task-...`; minimum lengths keep
# placeholders (`sk-test`, `Bearer fake`) quiet. Request headers are checked on the parsed request instead (a
# lookup, not one more pass over the bytes).
_RULES: tuple[tuple[str, str, tuple[int, ...], str], ...] = (
    ("private-key", r"-----BEGIN", (0,), r"(-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----)"),
    ("anthropic-key", r"sk-", (0,), r"(?<![A-Za-z0-9_-])(sk-ant-[A-Za-z0-9_-]{20,})"),
    ("openai-key", r"sk-", (0,), r"(?<![A-Za-z0-9_-])(sk-(?!ant-)[A-Za-z0-9_-]{20,})"),
    ("aws-access-key", r"A(?:[KS]IA|Iza)", (0,), r"(?<![A-Z0-9])((?:AKIA|ASIA)[0-9A-Z]{16})(?![0-9A-Z])"),
    ("google-api-key", r"A(?:[KS]IA|Iza)", (0,), r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})"),
    ("github-token", r"gh[pousr]_", (0,), r"(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,})"),
    ("slack-token", r"xox[abposr]-", (0,), r"(?<![A-Za-z0-9])(xox[abposr]-[A-Za-z0-9-]{10,})"),
    ("bearer-token", r"earer ", (1,), r"(?<![A-Za-z0-9])[Bb]earer\s+([A-Za-z0-9._~+/-]{16,}=*)"),
)
AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key"})
# Anchors every occurrence of which holds a `-`, `_` or space. Base64 text holds none of those, and is delimited
# by `,` (`;base64,`) or `"`, which no anchor holds: no occurrence of these lies in or across it, so the text of
# a large inline image (verified to hold none of the three) is not searched for them.
_SEPARATED_ANCHORS = frozenset({"-----BEGIN", "sk-", "gh[pousr]_", "xox[abposr]-", "earer "})
_SEPARATORS = (b"-", b"_", b" ")
_COMPILED = tuple(
    (kind, re.compile(anchor.encode()), offsets, re.compile(pattern.encode()), anchor in _SEPARATED_ANCHORS)
    for kind, anchor, offsets, pattern in _RULES
)


def _outside(data: bytes, skip: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """The (start, end) segments of `data` outside the base64 texts of `skip` (as `size.image_spans` gives
    them) that hold no separator."""
    segments: list[tuple[int, int]] = []
    position = 0
    for _offset, start, end in sorted(skip, key=lambda span: span[1]):
        if end <= position or any(data.find(separator, start, end) != -1 for separator in _SEPARATORS):
            continue
        if start > position:
            segments.append((position, start))
        position = max(position, end)
    segments.append((position, len(data)))
    return segments


def _candidates(data: bytes, skip: Sequence[tuple[int, int, int]] = ()) -> list[tuple[int, str, re.Pattern[bytes]]]:
    """(offset, kind, pattern) of every place a secret may start, in file order; one pass per anchor."""
    found: list[tuple[int, str, re.Pattern[bytes]]] = []
    positions: dict[re.Pattern[bytes], list[int]] = {}
    whole = [(0, len(data))]
    outside = _outside(data, skip) if skip else whole
    for kind, anchor, offsets, pattern, separated in _COMPILED:
        hits = positions.get(anchor)
        if hits is None:
            hits = positions[anchor] = []
            for start, end in outside if separated else whole:
                match = anchor.search(data, start, end)
                while match is not None:  # overlapping occurrences too, as a find loop would give them
                    hits.append(match.start())
                    match = anchor.search(data, match.start() + 1, end)
        found.extend((hit - offset, kind, pattern) for hit in hits for offset in offsets if hit >= offset)
    found.sort(key=lambda item: item[0])
    return found


@dataclass(frozen=True, slots=True)
class Allowlist:
    """`[tool.fixtures.check] allow_secrets`: each entry is a literal or a regex; a secret equal to a
    literal, or in which the regex is found, is never reported."""

    entries: tuple[str, ...] = ()

    def allows(self, secret: str) -> bool:
        for entry in self.entries:
            if entry == secret:
                return True
            try:
                if re.search(entry, secret):
                    return True
            except re.error:
                continue
        return False


def mask(secret: str) -> str:
    """What a report may show of a secret: at most a short prefix and suffix, and the length."""
    if secret.startswith("-----BEGIN"):
        return secret
    if len(secret) < 12:
        return "*" * len(secret)
    keep = 4 if len(secret) >= 20 else 2
    return f"{secret[:keep]}…{secret[-keep:]} ({len(secret)} chars)"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _finding(path: str, kind: str, secret: str, line: int) -> Finding:
    masked = mask(secret)
    return Finding(
        path=path,
        check="secrets",
        status=kind,
        severity="error",
        message=f"{kind.replace('-', ' ')} {masked} on line {line}",
        details={"kind": kind, "masked": masked, "line": line},
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


def check_secrets(
    path: str,
    data: bytes,
    allowlist: Allowlist = Allowlist(),
    *,
    headers: Any = None,
    images: Sequence[tuple[int, int, int]] = (),
) -> list[Finding]:
    """One error per distinct secret (with its first line), masked. `headers` are the request's headers,
    when the file parsed: a non-empty authorization or api-key header is a secret whatever its form.
    `images` are the file's inline images (`size.image_spans`), whose base64 text need not all be searched."""
    reported: list[str] = []
    findings: list[Finding] = []
    for name, value in _header_secrets(headers):
        reported.append(value)  # allowed or not, the tokens inside it are not reported again
        if allowlist.allows(value):
            continue
        findings.append(_finding(path, "auth-header", value, _line_of(data, max(data.find(f'"{name}"'.encode()), 0))))
    covered = -1  # the end of the last secret found, so that overlapping anchors report it once
    for offset, kind, pattern in _candidates(data, images):
        if offset < covered:
            continue
        match = pattern.match(data, offset)
        if match is None:
            continue
        covered = match.end()
        secret = match.group(1).decode("utf-8", "replace")
        if any(secret in earlier for earlier in reported):
            continue
        reported.append(secret)
        if allowlist.allows(secret):
            continue
        findings.append(_finding(path, kind, secret, _line_of(data, offset)))
    return findings


def allowlist_of(entries: Sequence[str]) -> Allowlist:
    return Allowlist(tuple(entries))
