"""Consoles, created lazily so that CliRunner captures them; NO_COLOR is respected by rich itself."""

from __future__ import annotations

import sys

from rich.console import Console


def stdout_console() -> Console:
    """A console on the current stdout (never bound at import time). User data is never markup."""
    return Console(file=sys.stdout, markup=False, highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    return Console(file=sys.stderr, markup=False, highlight=False, soft_wrap=True)
