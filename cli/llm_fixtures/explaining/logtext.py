"""A CI log made plain text: timestamps, colours, terminal control sequences and CI markers stripped, line by line."""

from __future__ import annotations

import re

# A line as GitHub Actions stores it (`2025-10-01T12:00:00.1234567Z text`), as `gh run view --log` prints it
# (`job<TAB>step<TAB>timestamp text`), or as GitLab and Buildkite stamp it (ISO time, optional fraction and zone).
_TIMESTAMP = re.compile(
    r"^(?:[^\t\n]*\t){0,2}\ufeff?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})? ?"
)
# ECMA-48: CSI sequences (colours, cursor moves, erase), OSC sequences (titles, hyperlinks) ended by BEL or ST,
# other two-character escapes; then the C0 and C1 controls left (tab kept, carriage return handled apart).
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Workflow commands and section markers CI systems write into a log: `##[group]`, `::error::`, GitLab sections.
_CI_MARKER = re.compile(r"^(?:##\[[a-z]+\]|::[a-z-]+(?: [^:]*)?::)|^section_(?:start|end):\d+:[\w.-]+(?:\[[^\]]*\])?")


def clean_line(line: str) -> str:
    """One line of a log as a person reads it: the text after the last carriage return (a progress bar redrawn
    in place), without timestamp prefix, escape sequences, control characters or CI markers."""
    line = _TIMESTAMP.sub("", line, count=1)
    if "\r" in line:
        parts = [part for part in line.split("\r") if _ESCAPES.sub("", part).strip()]
        line = parts[-1] if parts else ""
    if "\x1b" in line or "\x9b" in line:
        line = _ESCAPES.sub("", line)
    line = _CONTROLS.sub("", line)
    line = _CI_MARKER.sub("", line, count=1)
    return _TIMESTAMP.sub("", line, count=1).rstrip()


def clean_lines(text: str) -> list[str]:
    """Every line of a log, cleaned (`clean_line`)."""
    return [clean_line(line) for line in text.split("\n")]
