"""What may be printed: secrets masked as `check` masks them, control characters shown and never executed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Protocol

from llm_fixtures.escaping import escape
from llm_fixtures.scanning import Allowlist, find_secrets, mask

# Characters a terminal may act on, or that disguise what follows them: C0 controls but newline and tab, DEL,
# C1 controls (U+009B is CSI on terminals that read 8-bit controls), the bidirectional overrides and isolates
# (text shown in another order than stored), and lone surrogates (no encoding can write them). Each is shown as
# its escape: `\x1b`, `\x9b`, `\u202e`, `\ud800`.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]"
# ...and, in a value that must stay on one line (a table cell, a stderr line), newline and tab too, and the Unicode
# line and paragraph separators (`str.splitlines` breaks at them; `escaping.one_line` escapes the same).
_UNSAFE_IN_LINE = f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]"
# The same characters in UTF-8 JSON text: the encoders escape C0 controls, not DEL, C1 or bidi characters.
_UNSAFE_IN_JSON = rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]"
# A private key's body after its header line (the header is what `check` reports; the body is the secret), in
# plain text or in JSON text (escaped line ends); with no end line within reach, the base64 lines.
_KEY_BODY = rb"(?:[A-Za-z0-9+/=:,\- \t\r\n]|\\[nrt])*?-----END (?:[A-Z]+ )*PRIVATE KEY-----"
_KEY_LINES = rb"(?:[A-Za-z0-9+/=\r\n]|\\[nrt])*"
_KEY_BODY_LIMIT = 16_384
# A request header that carries a credential whatever its form (`auth-header` in `check`), as JSON prints it:
# found at the end of its name (a literal, searched at C speed), then its name and value read around it.
_HEADER_ENDS = (b'uthorization"', b'UTHORIZATION"', b'pi-key"', b'PI-KEY"', b'pi-Key"')
_HEADER_NAME = rb'"(?i:(?:proxy-)?authorization|(?:x-(?:goog-)?)?api-key)"'
_HEADER_VALUE = rb' ?: ?"((?:[^"\\]|\\.)+)"'


@cache
def _text_regex(source: str) -> re.Pattern[str]:
    """Compiled on first use: most outputs are printable ASCII with no secret, and never need these."""
    return re.compile(source)


@cache
def _bytes_regex(source: bytes) -> re.Pattern[bytes]:
    return re.compile(source)


Edit = tuple[int, int, str]  # (start, end, replacement) in a text


class Allows(Protocol):
    """What decides that a secret may be printed as it is (`checking.secrets.Allowlist`, `ProjectAllowlist`)."""

    def allows(self, secret: str) -> bool: ...


def secret_spans(data: bytes, allowlist: Allows | None = None) -> list[tuple[int, int, str]]:
    """(start, end, mask) of every secret in `data` that the allowlist does not allow: the keys and tokens
    `check` finds (a private key with its body), and credential headers as JSON prints them."""
    spans: list[tuple[int, int, str]] = []
    for secret in find_secrets(data):
        end, text = secret.end, secret.text
        if secret.kind == "private-key":
            limit = min(len(data), end + _KEY_BODY_LIMIT)
            body = _bytes_regex(_KEY_BODY).match(data, end, limit) or _bytes_regex(_KEY_LINES).match(data, end)
            if body is not None and body.end() > end:
                end = body.end()
                text = data[secret.start : end].decode("utf-8", "replace")
        if allowlist is None or not allowlist.allows(text):
            spans.append((secret.start, end, mask(text)))
    headers = _header_spans(data)
    if headers:
        for start, end in headers:
            value = data[start:end].decode("utf-8", "replace")
            overlaps = any(s < end and start < e for s, e, _ in spans)  # a token already masked inside it
            if not overlaps and (allowlist is None or not allowlist.allows(value)):
                spans.append((start, end, mask(value)))
        spans.sort()
    return spans


def _header_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of the value of each credential header in JSON text (`"headers": {"Authorization": "..."}`:
    nothing to look for without a `headers` object, as in most outputs)."""
    spans: list[tuple[int, int]] = []
    if b'"headers"' not in data:
        return spans
    for end_of_name in _HEADER_ENDS:
        at = data.find(end_of_name)
        while at != -1:
            end = at + len(end_of_name)
            start = data.rfind(b'"', max(0, at - 20), at)
            if start != -1 and _bytes_regex(_HEADER_NAME).fullmatch(data, start, end):
                value = _bytes_regex(_HEADER_VALUE).match(data, end)
                if value is not None:
                    spans.append(value.span(1))
            at = data.find(end_of_name, end)
    return spans


def _char_offsets(data: bytes, offsets: Iterable[int]) -> dict[int, int]:
    """The character offset of each of these byte offsets of `data` (UTF-8, surrogates passed), each at the start
    of a character (a secret's bounds are ASCII): the bytes between two of them decoded, not every character
    walked (a megabyte of output with a secret and one accented letter took a second)."""
    found: dict[int, int] = {}
    byte = char = 0
    for offset in sorted(set(offsets)):
        char += len(data[byte:offset].decode("utf-8", "surrogatepass"))
        byte, found[offset] = offset, char
    return found


def edits(text: str, allowlist: Allows | None = None, *, one_line: bool = False) -> list[Edit]:
    """Where `text` must change before it is printed, in order: each secret for its mask, each unsafe
    character for its escape (`one_line`: newlines and tabs too)."""
    found: list[Edit] = []
    if not text:
        return found
    data = text.encode("utf-8", "surrogatepass")
    if b"[-" in data or b"-]" in data:
        # The word-diff markers of `fixtures diff` (`[-removed-]`) end a word for the scan (a key right after
        # `[-` is still found), the bytes read as spaces so that every offset stays where it is.
        data = data.replace(b"[-", b"[ ").replace(b"-]", b" ]")
    spans = secret_spans(data, allowlist)
    if spans:
        if len(data) == len(text):
            found.extend(spans)
        else:
            offsets = _char_offsets(data, [bound for start, end, _masked in spans for bound in (start, end)])
            found.extend((offsets[start], offsets[end], masked) for start, end, masked in spans)
    if not text.isprintable():
        pattern = _text_regex(_UNSAFE_IN_LINE if one_line else _UNSAFE)
        covered = iter(found)
        current = next(covered, None)
        controls: list[Edit] = []
        for match in pattern.finditer(text):
            at = match.start()
            while current is not None and current[1] <= at:
                current = next(covered, None)
            if current is not None and current[0] <= at:
                continue  # inside a masked secret: gone anyway
            controls.append((at, at + 1, escape(match.group())))
        if controls:
            found = sorted(found + controls)
    return found


def apply(text: str, changes: Sequence[Edit]) -> str:
    if not changes:
        return text
    parts: list[str] = []
    position = 0
    for start, end, replacement in changes:
        parts.append(text[position:start])
        parts.append(replacement)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def clean(text: str, allowlist: Allows | None = None, *, one_line: bool = False) -> str:
    """`text` as it may be printed: secrets masked, unsafe characters escaped (`one_line`: newlines and tabs
    too, for a value that must stay on its line)."""
    return apply(text, edits(text, allowlist, one_line=one_line))


def clean_cells(cells: list[str], allowlist: Allows | None = None) -> list[str]:
    """Many one-line values made safe at once (one scan for secrets over them all): the cells of a table."""
    escaped = [cell if cell.isprintable() else apply(cell, edits_of_controls(cell)) for cell in cells]
    joined = "\n".join(escaped)  # no cell holds a newline any more, and no secret spans one
    masked = clean(joined, allowlist)
    return escaped if masked is joined else masked.split("\n")


def edits_of_controls(text: str) -> list[Edit]:
    """Where a one-line value holds an unsafe character (newlines and tabs included)."""
    return [(m.start(), m.start() + 1, escape(m.group())) for m in _text_regex(_UNSAFE_IN_LINE).finditer(text)]


def clean_json(data: bytes, allowlist: Allows | None = None) -> bytes:
    """JSON text as it may be printed, still valid JSON with the same meaning but for the masks: secrets
    masked inside their strings (a mask holds no quote or backslash), and DEL, C1 and bidirectional
    characters written as `\\u` escapes (the encoders already escape the other controls)."""
    spans = secret_spans(data, allowlist)
    if spans:
        parts: list[bytes] = []
        position = 0
        for start, end, masked in spans:
            parts += [data[position:start], masked.encode()]
            position = end
        parts.append(data[position:])
        data = b"".join(parts)
    if data.isascii() and b"\x7f" not in data:
        return data
    return _bytes_regex(_UNSAFE_IN_JSON).sub(lambda m: f"\\u{ord(m.group().decode()):04x}".encode(), data)


class ProjectAllowlist:
    """`[tool.fixtures.check] allow_secrets` of the project around the current folder: secrets it allows are
    printed as they are, everywhere. Read on first need (when a secret is found: most outputs hold none), with
    no more than a glance: when the table cannot be read, nothing is allowed (everything masked)."""

    def __init__(self) -> None:
        self._allowlist: Allowlist | None = None

    def allows(self, secret: str) -> bool:
        if self._allowlist is None:
            self._allowlist = _read_allowlist()
        return self._allowlist.allows(secret)


def _read_allowlist() -> Allowlist:
    from pathlib import Path

    from llm_fixtures.config import find_pyproject, read_table
    from llm_fixtures.errors import FixtureError

    try:
        table = read_table(find_pyproject(Path.cwd()))
    except (FixtureError, OSError):
        return Allowlist()
    check = table.get("check")
    entries = check.get("allow_secrets") if isinstance(check, dict) else None
    if not isinstance(entries, list):
        return Allowlist()
    return Allowlist(tuple(entry for entry in entries if isinstance(entry, str)))
