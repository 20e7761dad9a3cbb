"""Numbers for people: byte sizes (`33.2 KB`) and counted nouns (`1 file`, `2 files`)."""

from __future__ import annotations

_UNITS = ("KB", "MB", "GB", "TB")


def human_bytes(size: int) -> str:
    """`512 B`, `2.5 KB`, `34 KB`, `1.2 MB`: binary units, one decimal, none when it is 0."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            text = f"{value:.1f}"
            if text == "1024.0" and unit != _UNITS[-1]:  # 1023.96 KB rounds to the next unit
                continue
            return f"{text.removesuffix('.0')} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 file`, `2 files`, `0 files`; `many` for an irregular plural (`1 match`, `2 matches`)."""
    return f"{count} {word if count == 1 else many or word + 's'}"
