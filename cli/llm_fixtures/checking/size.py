"""The `size` check: files, and inline base64 images, above the configured thresholds."""

from __future__ import annotations

import re
from collections.abc import Iterator

from llm_fixtures.checking.findings import Finding
from llm_fixtures.onepass import LARGE_INPUT, Patterns
from llm_fixtures.scanning import LineNumbers

_DATA_URL = re.compile(rb"data:image/[A-Za-z0-9.+-]+;base64,")
# Ollama sends images as bare base64 strings in an `images` list.
_BARE_IMAGES = re.compile(rb'"images"\s*:\s*\[')
_BARE_STRING = re.compile(rb'\s*"([A-Za-z0-9+/]*={0,2})"\s*,?')  # what _bare_string matches, faster
_SPACES = re.compile(rb"\s*")
_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _bare_string(data: bytes, position: int) -> tuple[int, int, int] | None:
    """`_BARE_STRING.match(data, position)` as (start of group 1, its length, end of the match), or None.
    The class of the string excludes `"`, so the string is whatever lies before the next quote; checking
    it with bytes methods is much faster than the regex engine's per-byte loop over a large image."""
    start = _SPACES.match(data, position).end()  # type: ignore[union-attr]  # \s* always matches
    if data[start : start + 1] != b'"':
        return None
    end = data.find(b'"', start + 1)
    if end == -1:
        return None
    text = data[start + 1 : end]
    digits = text.rstrip(b"=")
    if len(text) - len(digits) > 2 or digits.translate(None, _BASE64):
        return None
    after = _SPACES.match(data, end + 1).end()  # type: ignore[union-attr]
    if data[after : after + 1] == b",":
        after += 1
    return start + 1, len(text), after


Image = tuple[int, int, int]  # (offset shown: `data:image/` or the string, start of the base64 text, its end)


_PREFIXES = (b"data:image/", b'"images"')
_ONE_PASS = Patterns([re.escape(prefix) for prefix in _PREFIXES])  # both found in one pass of a large file


def image_spans(data: bytes) -> list[Image]:
    """Every inline base64 image: data URLs (their text from after `;base64,` to the closing quote), then
    Ollama `images` entries (between their quotes)."""
    found: list[Image] = []
    starts: list[list[int]] | None = None
    if len(data) >= LARGE_INPUT and _ONE_PASS.available():  # both prefixes found in one pass
        starts = [[], []]
        for end, index in _ONE_PASS.find(data):
            starts[index].append(end - len(_PREFIXES[index]))
    for match in _matches(_DATA_URL, _PREFIXES[0], data, starts[0] if starts else None):
        end = data.find(b'"', match.end())  # a JSON string: the data URL ends at its closing quote
        found.append((match.start(), match.end(), end if end != -1 else len(data)))
    for match in _matches(_BARE_IMAGES, _PREFIXES[1], data, starts[1] if starts else None):
        position = match.end()
        while (item := _bare_string(data, position)) is not None:
            start, length, position = item
            found.append((start, start, start + length))
    return found


def _matches(
    pattern: re.Pattern[bytes], prefix: bytes, data: bytes, starts: list[int] | None = None
) -> Iterator[re.Match[bytes]]:
    """`pattern.finditer(data)` for a pattern that starts with the literal `prefix`: bytes.find skips through
    a large file faster than the regex engine looks for a prefix of that length. `starts`, when given, are
    where the prefix occurs (found in one pass with the other prefix)."""
    if starts is not None:
        covered = 0
        for position in starts:
            if position >= covered and (match := pattern.match(data, position)) is not None:
                covered = match.end()
                yield match
        return
    position = data.find(prefix)
    while position != -1:
        match = pattern.match(data, position)
        if match is None:
            position = data.find(prefix, position + 1)
        else:
            yield match
            position = data.find(prefix, match.end())


def check_size(
    path: str, data: bytes, *, max_file_bytes: int, max_image_bytes: int, images: list[Image] | None = None
) -> list[Finding]:
    """A warning for a file above `max_file_bytes`, and one per inline image above `max_image_bytes`.
    `images` are the file's `image_spans`, when the caller has them already."""
    findings: list[Finding] = []
    if len(data) > max_file_bytes:
        findings.append(
            Finding(
                path=path,
                check="size",
                status="large-file",
                severity="warning",
                message=f"{len(data):,} bytes, above max_file_bytes = {max_file_bytes:,}",
                details={"bytes": len(data), "limit": max_file_bytes},
            )
        )
    # An image above the limit needs a file above it (base64 is longer than the bytes it encodes).
    spans = (image_spans(data) if images is None else images) if len(data) > max_image_bytes else []
    sizes = [(offset, (end - start) * 3 // 4) for offset, start, end in spans]
    large = [(offset, size) for offset, size in sizes if size > max_image_bytes]
    lines = LineNumbers(data).of_each([offset for offset, _size in large])  # one count over the file, not one each
    for (_offset, size), line in zip(large, lines, strict=True):
        findings.append(
            Finding(
                path=path,
                check="size",
                status="large-image",
                severity="warning",
                message=f"inline base64 image of {size:,} bytes on line {line}, above "
                f"max_image_bytes = {max_image_bytes:,}",
                details={"bytes": size, "limit": max_image_bytes, "line": line},
            )
        )
    return findings
