"""What the re-record flows tell the person running them, and the one question they ask. A Protocol, so that the
flows (rerecording/*flow.py) never print and never import the terminal: the command line implements it over
stdout, stderr and a prompt (commands/rerecord_terminal.py), and a test can implement it too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from llm_fixtures.diffing.report import PairReport
    from llm_fixtures.rerecording.backup import Restored
    from llm_fixtures.rerecording.httprunner import FileResult
    from llm_fixtures.rerecording.leftovers import Recovered
    from llm_fixtures.rerecording.outcome import Outcome
    from llm_fixtures.rerecording.plan import Plan
    from llm_fixtures.rerecording.review import PendingEntry, PendingTest


class Reporter(Protocol):
    """`json`: JSON Lines on stdout instead of the human output. `interactive`: a person can answer `ask`."""

    as_json: bool
    interactive: bool

    def warn(self, message: str) -> None:
        """One line on stderr."""

    def lines(self, items: Iterable[Any]) -> None:
        """JSON Lines on stdout, one object per item."""

    def plan(self, plan: Plan) -> None:
        """The dry-run plan."""

    def progress(self, total: int, label: str) -> AbstractContextManager[Callable[[], None]]:
        """A progress display for `total` steps; yields the function that advances it by one."""

    def results(self, results: Sequence[FileResult]) -> None:
        """The http runner's result per file."""

    def outcome(
        self, outcome: Outcome, classes: dict[str, list[str]], reports: Sequence[PairReport], pruned: Sequence[str]
    ) -> None:
        """A record run's files by what happened to each, then the `fixtures diff` of the run."""

    def restored(self, restored: Restored, status: str) -> None:
        """What putting a backup back did, after a run that `status` (e.g. "failed (exit 1)")."""

    def recovered(self, recovered: Sequence[Recovered]) -> None:
        """What `--restore` did with each leftover backup."""

    def pending(self, entries: Sequence[PendingEntry], reports: Sequence[PairReport]) -> None:
        """The staged recordings awaiting review, then the `fixtures diff` of each against the file it replaces."""

    def ask(self, test: PendingTest, index: int, total: int, classes: dict[str, list[str]]) -> str:
        """Show one test's staged recordings and return the answer typed (a key of review.KEYS, or anything)."""
