"""The `secrets` check: API keys, tokens and private keys anywhere in a recording, reported masked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from llm_fixtures.checking.findings import Finding

# (kind, anchors, pattern). The pattern is tried only where one of the kind's anchors occurs (found with
# bytes.find, at C speed; anchors in lower case are looked for in the lower-cased file), and it must match
# right there. Its first group is the secret itself. Lookbehinds keep `sk-` from matching inside words such
# as `task-...`; minimum lengths keep placeholders (`sk-test`, `Bearer fake`) quiet.
_RULES: tuple[tuple[str, tuple[bytes, ...], bool, str], ...] = (
    ("private-key", (b"-----BEGIN",), False, r"(-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----)"),
    ("anthropic-key", (b"sk-ant-",), False, r"(?<![A-Za-z0-9_-])(sk-ant-[A-Za-z0-9_-]{20,})"),
    ("openai-key", (b"sk-",), False, r"(?<![A-Za-z0-9_-])(sk-(?!ant-)[A-Za-z0-9_-]{20,})"),
    ("aws-access-key", (b"AKIA", b"ASIA"), False, r"(?<![A-Z0-9])((?:AKIA|ASIA)[0-9A-Z]{16})(?![0-9A-Z])"),
    ("google-api-key", (b"AIza",), False, r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})"),
    (
        "github-token",
        (b"ghp_", b"gho_", b"ghu_", b"ghs_", b"ghr_", b"github_pat_"),
        False,
        r"(?<![A-Za-z0-9_])(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
    ),
    ("slack-token", (b"xox",), False, r"(?<![A-Za-z0-9])(xox[abposr]-[A-Za-z0-9-]{10,})"),
    ("bearer-token", (b"bearer",), True, r"(?i:bearer)\s+([A-Za-z0-9._~+/-]{16,}=*)"),
    (
        "auth-header",
        (b'"authorization"', b'"proxy-authorization"', b'"api-key"', b'"x-api-key"', b'"x-goog-api-key"'),
        True,
        r'"(?i:authorization|proxy-authorization|api-key|x-api-key|x-goog-api-key)"\s*:\s*"((?:[^"\\]|\\.)+)"',
    ),
)
_COMPILED = tuple((kind, anchors, lower, re.compile(pattern.encode())) for kind, anchors, lower, pattern in _RULES)


def _candidates(data: bytes) -> list[tuple[int, str, re.Pattern[bytes]]]:
    """(offset, kind, pattern) of every anchor occurrence, in file order."""
    lowered: bytes | None = None
    found: list[tuple[int, str, re.Pattern[bytes]]] = []
    for kind, anchors, lower, pattern in _COMPILED:
        haystack = data
        if lower:
            lowered = data.lower() if lowered is None else lowered
            haystack = lowered
        for anchor in anchors:
            position = haystack.find(anchor)
            while position != -1:
                found.append((position, kind, pattern))
                position = haystack.find(anchor, position + 1)
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
    """What a report may show of a secret: a short prefix, the last 4 characters and the length."""
    if secret.startswith("-----BEGIN"):
        return secret
    if len(secret) <= 8:
        return "*" * len(secret)
    head = 4 if len(secret) >= 20 else 2
    return f"{secret[:head]}…{secret[-4:]} ({len(secret)} chars)"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def check_secrets(path: str, data: bytes, allowlist: Allowlist = Allowlist()) -> list[Finding]:
    """One error per distinct secret (with its first line), masked."""
    seen: set[str] = set()
    covered = -1  # the end of the last secret found: `Authorization: Bearer x` is one secret, not two
    findings: list[Finding] = []
    for offset, kind, pattern in _candidates(data):
        if offset < covered:
            continue
        match = pattern.match(data, offset)
        if match is None:
            continue
        secret = match.group(1).decode("utf-8", "replace")
        if kind == "auth-header" and secret.strip() in {"", "null", "None"}:
            continue
        covered = match.end()
        if secret in seen or allowlist.allows(secret):
            continue
        seen.add(secret)
        masked = mask(secret)
        line = _line_of(data, offset)
        findings.append(
            Finding(
                path=path,
                check="secrets",
                status=kind,
                severity="error",
                message=f"{kind.replace('-', ' ')} {masked} on line {line}",
                details={"kind": kind, "masked": masked, "line": line},
            )
        )
    return findings


def allowlist_of(entries: Sequence[str]) -> Allowlist:
    return Allowlist(tuple(entries))
