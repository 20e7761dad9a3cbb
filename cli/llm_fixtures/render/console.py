"""The sinks of human output: rich consoles and plain line writers that mask secrets and show control characters
before anything reaches a terminal or a pipe; whether and how wide a terminal is, and whether it takes styles."""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterable
from functools import cache
from typing import IO, TYPE_CHECKING, Any, NoReturn

from llm_fixtures.sanitizing import ProjectAllowlist, clean, edits

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.segment import Segment
    from rich.text import Text

# A pipe has no width: nothing piped is wrapped or cut (it is read by grep and awk, one line per item). Rich
# needs a number; renderers ask `is_terminal` before they lay anything out to a width.
PIPE_WIDTH = 1 << 20
# Lines written at once by the plain writers: one scan for secrets per chunk, not per line.
CHUNK_LINES = 2048


def is_terminal(stream: IO[str] | None = None) -> bool:
    """Whether `stream` (default: stdout) is a terminal, as opposed to a pipe, a file or a test's capture."""
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def takes_styles(stream: IO[str] | None = None) -> bool:
    """Bold, dim and colours only on a terminal that wants them: never with NO_COLOR (any non-empty value,
    no-color.org) or TERM=dumb, and never in a pipe unless FORCE_COLOR asks for them."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return is_terminal(stream) or bool(os.environ.get("FORCE_COLOR"))


def terminal_width(stream: IO[str] | None = None) -> int | None:
    """The terminal's columns (COLUMNS when set), or None for a pipe."""
    if not is_terminal(stream):
        return None
    return shutil.get_terminal_size().columns


def stdout_console() -> Console:
    """A console on the current stdout (never bound at import time, so that CliRunner captures it)."""
    return _console(sys.stdout)


def stderr_console() -> Console:
    return _console(sys.stderr)


def _console(stream: IO[str]) -> Console:
    terminal = is_terminal(stream)
    styles = takes_styles(stream)
    return _safe_console_class()(
        file=stream,
        markup=False,
        highlight=False,
        emoji=False,
        force_terminal=terminal,
        color_system=("auto" if terminal else "standard") if styles else None,
        width=None if terminal else PIPE_WIDTH,
        soft_wrap=not terminal,
    )


@cache
def _safe_console_class() -> type[Console]:
    """The rich console every human output goes through (rich imported on first use: `ls --json` and piped
    tables never pay for it)."""
    from rich.console import Console
    from rich.rule import Rule
    from rich.text import Text

    class SafeConsole(Console):
        """Every text is made safe before rich lays it out (so widths are those of what is printed): secrets
        masked, control characters escaped. In a pipe a rule is only its title (it has no width to fill)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.allowlist = ProjectAllowlist()

        def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
            if isinstance(renderable, str):
                renderable = Text(renderable)
            if isinstance(renderable, Rule) and not self.is_terminal:
                title = renderable.title
                renderable = title if isinstance(title, Text) else Text(title)
            if isinstance(renderable, Text):
                renderable = safe_text(renderable, self.allowlist)
            return super().render(renderable, options)

        def on_broken_pipe(self) -> None:
            self.quiet = True
            reader_gone()

    return SafeConsole


def reader_gone() -> NoReturn:
    """The reader of our output went away (`fixtures show ... | head -1`): what is still buffered goes nowhere,
    and the command ends quietly with exit 0, as `cat` and `ls` do."""
    for stream in (sys.stdout, sys.stderr):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            pass  # not a real file (a test's capture): nothing will be flushed to a closed pipe
    raise SystemExit(0)


def safe_text(text: Text, allowlist: Any = None) -> Text:
    """A rich Text with its secrets masked and its control characters escaped, styles kept (the text itself
    when nothing needs to change, as for almost every text)."""
    changes = edits(text.plain, allowlist)
    if not changes:
        return text
    from rich.text import Text

    result = Text(style=text.style, justify=text.justify, overflow=text.overflow, no_wrap=text.no_wrap, end=text.end)
    position = 0
    for start, end, replacement in changes:
        result.append_text(text[position:start])
        styles = [span.style for span in text.spans if span.start <= start < span.end]
        at = len(result)
        result.append(replacement)
        for style in styles:
            result.stylize(style, at, len(result))
        position = end
    result.append_text(text[position:])
    return result


# ---------------------------------------------------------------------------------------------------------------
# Plain writers: lines with no styles, written without rich (piped tables, one-line messages on stderr).


def write_lines(lines: Iterable[str], *, err: bool = False, bold_first: bool = False) -> None:
    """Lines on stdout (or stderr), made safe a chunk at a time: secrets masked, control characters escaped.
    `bold_first`: a table's header, in bold where styles are taken (the only escape code these writers emit,
    added after the text is made safe)."""
    stream = sys.stderr if err else sys.stdout
    allowlist = ProjectAllowlist()
    bold = bold_first and takes_styles(stream)
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= CHUNK_LINES:
            _write_chunk(stream, chunk, allowlist, bold)
            chunk.clear()
            bold = False
    if chunk:
        _write_chunk(stream, chunk, allowlist, bold)
    stream.flush()


def _write_chunk(stream: IO[str], lines: list[str], allowlist: ProjectAllowlist, bold: bool) -> None:
    text = clean("\n".join(lines), allowlist) + "\n"
    if bold:
        head, newline, rest = text.partition("\n")
        text = f"\x1b[1m{head}\x1b[0m{newline}{rest}"
    try:
        stream.write(text)
    except BrokenPipeError:
        reader_gone()


def write_line(line: str, *, err: bool = True) -> None:
    """One message line (stderr by default), kept on one line: a newline or control character in it (from a
    file's content, a path) is shown escaped."""
    stream = sys.stderr if err else sys.stdout
    stream.write(clean(line, ProjectAllowlist(), one_line=True) + "\n")
    stream.flush()


def write_text(text: str) -> None:
    """A finished document on stdout (a Markdown comment): made safe whole, newlines kept."""
    text = clean(text, ProjectAllowlist())
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def write_raw(data: bytes) -> None:
    """The one bypass of the sinks: bytes exactly as stored (`show --raw`, which asks for them)."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(data.decode("utf-8", "surrogateescape"))
    else:
        buffer.write(data)
        buffer.flush()


__all__ = [
    "is_terminal",
    "reader_gone",
    "safe_text",
    "stderr_console",
    "stdout_console",
    "takes_styles",
    "terminal_width",
    "write_line",
    "write_lines",
    "write_raw",
    "write_text",
]
