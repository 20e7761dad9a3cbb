"""The `size` check: files, and inline base64 images, above the configured thresholds."""

from __future__ import annotations

import re

from llm_fixtures.checking.findings import Finding

_DATA_URL = re.compile(rb"data:image/[A-Za-z0-9.+-]+;base64,")
# Ollama sends images as bare base64 strings in an `images` list.
_BARE_IMAGES = re.compile(rb'"images"\s*:\s*\[')
_BARE_STRING = re.compile(rb'\s*"([A-Za-z0-9+/]*={0,2})"\s*,?')


def _image_sizes(data: bytes) -> list[tuple[int, int]]:
    """(offset, decoded bytes) of every inline base64 image: data URLs and Ollama `images` entries."""
    found: list[tuple[int, int]] = []
    for match in _DATA_URL.finditer(data):
        end = data.find(b'"', match.end())  # a JSON string: the data URL ends at its closing quote
        length = (end if end != -1 else len(data)) - match.end()
        found.append((match.start(), length * 3 // 4))
    for match in _BARE_IMAGES.finditer(data):
        position = match.end()
        while (item := _BARE_STRING.match(data, position)) is not None and item.end() > position:
            found.append((item.start(1), len(item.group(1)) * 3 // 4))
            position = item.end()
    return found


def check_size(path: str, data: bytes, *, max_file_bytes: int, max_image_bytes: int) -> list[Finding]:
    """A warning for a file above `max_file_bytes`, and one per inline image above `max_image_bytes`."""
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
    for offset, size in _image_sizes(data) if len(data) > max_image_bytes else ():
        if size > max_image_bytes:
            line = data.count(b"\n", 0, offset) + 1
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
