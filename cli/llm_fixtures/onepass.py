"""Every match of a few patterns in a large input, found in one pass over it (Hyperscan) instead of one regex
pass or `bytes.find` loop per pattern: the secrets scanner and the inline-image search of `check` read each large
file this way. Hyperscan is installed where it has wheels (pyproject.toml says which platforms); elsewhere, or
when it cannot be loaded, `available` is False and the callers keep their own passes: the same answers, slower."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# From this size on, a file is searched in one pass for all its patterns; below it, the regex passes cost less
# than the call. (Outputs are never searched this way: loading Hyperscan, about 20 ms, and compiling the
# secrets' patterns, about 10 ms, cost more than the regex passes over what a command prints.)
LARGE_INPUT = 1 << 12


class Patterns:
    """A set of regexes (Hyperscan's syntax: no lookaround), compiled into one database on first use, in each
    process (a database is not shared between worker processes). Hyperscan reports where each match ends (and
    every end: a pattern should end once per place, at a fixed length, not at each byte of a run), each end a
    call back into Python."""

    __slots__ = ("_engine", "_loaded", "patterns")

    def __init__(self, patterns: Sequence[bytes]) -> None:
        self.patterns = tuple(patterns)
        self._engine: tuple[Any, Any] | None = None  # (database, scratch)
        self._loaded: bool | None = None

    def available(self) -> bool:
        """Whether Hyperscan can be loaded here (tried once)."""
        if self._loaded is None:
            try:
                import hyperscan  # noqa: F401
            except ImportError:  # not installed (no wheel for this platform), or its library will not load
                self._loaded = False
            else:
                self._loaded = True
        return self._loaded

    def _compiled(self) -> tuple[Any, Any]:
        if self._engine is None:
            import hyperscan

            database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            count = len(self.patterns)
            database.compile(expressions=list(self.patterns), ids=list(range(count)), elements=count)
            self._engine = (database, hyperscan.Scratch(database))
        return self._engine

    def find(self, data: bytes) -> list[tuple[int, int]]:
        """(end, index of the pattern) of every match in `data`, sorted (only when `available`)."""
        database, scratch = self._compiled()
        found: list[tuple[int, int]] = []

        def on_match(index: int, _start: int, end: int, _flags: int, _context: Any) -> None:
            found.append((end, index))

        database.scan(data, match_event_handler=on_match, scratch=scratch)
        found.sort()
        return found
