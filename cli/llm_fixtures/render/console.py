"""Consoles, created lazily so that CliRunner captures them; NO_COLOR is respected by rich itself."""

from __future__ import annotations

import sys

from rich.console import Console

PIPE_WIDTH = 160


def stdout_console() -> Console:
    """A console on the current stdout (never bound at import time). User data is never markup."""
    # Piped output is not wrapped at 80 columns: it is read by people in wide terminals, pagers and CI logs.
    width = None if sys.stdout.isatty() else PIPE_WIDTH
    return Console(file=sys.stdout, markup=False, highlight=False, soft_wrap=False, width=width)


def stderr_console() -> Console:
    return Console(file=sys.stderr, markup=False, highlight=False, soft_wrap=True)
