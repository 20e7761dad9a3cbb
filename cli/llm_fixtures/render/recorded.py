"""Rich text of recorded words (test ids, paths, prompts, answers): rich silently drops some control characters
when it builds a text (bell, backspace, vertical tab, form feed, carriage return); here they are kept, written as
escapes, so that the console's sink shows them as it shows every other control character."""

from __future__ import annotations

from typing import Any

from rich.control import STRIP_CONTROL_CODES
from rich.style import Style
from rich.text import Text

from llm_fixtures.escaping import escape

_DROPPED = {code: escape(chr(code)) for code in STRIP_CONTROL_CODES}


def kept(value: str) -> str:
    """`value` with the control characters rich drops from a text written as escapes."""
    return value if value.isprintable() else value.translate(_DROPPED)


class RecordedText(Text):
    """A rich text of recorded words: what rich would drop is kept, escaped (`kept`)."""

    __slots__ = ()

    def __init__(self, text: str = "", style: str | Style = "", **options: Any) -> None:
        super().__init__(kept(text), style, **options)

    def append(self, text: str | Text, style: str | Style | None = None) -> Text:
        return super().append(kept(text) if isinstance(text, str) else text, style)
