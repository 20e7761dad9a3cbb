"""Every occurrence of a few literals in a large input, found in one pass over it (Hyperscan) instead of one
`bytes.find` loop per literal: the secrets scanner and the inline-image search of `check` read each large file
this way. Small inputs are not worth it (loading the engine costs more than their regex passes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# From this size on, an input is searched in one pass for all its literals; below it, loading Hyperscan (about
# 15 ms) costs more than the regex passes save, so that a command whose outputs are small never imports it.
LARGE_INPUT = 1 << 12


class Literals:
    """A set of literals, compiled into one Hyperscan database on first use (in each process: a database is
    not shared between worker processes)."""

    __slots__ = ("_engine", "literals")

    def __init__(self, literals: Sequence[bytes]) -> None:
        self.literals = tuple(literals)
        self._engine: tuple[Any, Any] | None = None  # (database, scratch)

    def _compiled(self) -> tuple[Any, Any]:
        if self._engine is None:
            import hyperscan

            database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            count = len(self.literals)
            database.compile(expressions=list(self.literals), ids=list(range(count)), elements=count, literal=True)
            self._engine = (database, hyperscan.Scratch(database))
        return self._engine

    def find(self, data: bytes) -> list[tuple[int, int]]:
        """(start, index of the literal) of every occurrence of every literal in `data`, overlapping ones
        included, sorted."""
        database, scratch = self._compiled()
        found: list[tuple[int, int]] = []
        sizes = [len(literal) for literal in self.literals]

        def on_match(index: int, _start: int, end: int, _flags: int, _context: Any) -> None:
            found.append((end - sizes[index], index))

        database.scan(data, match_event_handler=on_match, scratch=scratch)
        found.sort()
        return found
