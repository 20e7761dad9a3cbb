"""How a character that may not be printed as it is gets written: its escape (`\\n`, `\\x1b`, `\\u202e`, `\\ud800`)."""

from __future__ import annotations

import re

_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escape(char: str) -> str:
    """How an unsafe character is shown: `\\n`, `\\x1b`, `\\u202e`, and a lone surrogate `\\ud800`."""
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# What ends or breaks a line on a terminal or for a reader of lines (`str.splitlines` breaks at each of these).
_LINE_BREAKS = "\n\r\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_ONE_LINE = {ord(char): escape(char) for char in _LINE_BREAKS}


def one_line(text: str) -> str:
    """`text` kept on one line: every character that ends or breaks a line (newline, carriage return, tab, the
    separators `str.splitlines` breaks at) written as its escape. For a path, test id or name from a file,
    printed among lines of output (the sinks escape every other control character, but keep newlines)."""
    return text if text.isprintable() else text.translate(_ONE_LINE)


def printable(text: str) -> str:
    """`text` with every lone surrogate written as its escape (`\\ud800`), so that it can be encoded as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(lambda match: escape(match.group()), text)
    return text
