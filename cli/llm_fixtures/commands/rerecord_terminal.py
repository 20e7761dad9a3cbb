"""The terminal side of `fixtures rerecord`: the Reporter the re-record flows talk to, writing JSON Lines and the
human output (render/rerecord.py) to stdout, one-line messages to stderr, and asking the review prompt."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import typer

from llm_fixtures.commands.common import echo_json_lines, warn
from llm_fixtures.diffing.report import PairReport
from llm_fixtures.render import rerecord as render
from llm_fixtures.rerecording.backup import Restored
from llm_fixtures.rerecording.httprunner import FileResult
from llm_fixtures.rerecording.leftovers import Recovered
from llm_fixtures.rerecording.outcome import Outcome
from llm_fixtures.rerecording.plan import Plan
from llm_fixtures.rerecording.review import PendingEntry, PendingTest


@dataclass(slots=True)
class Terminal:
    """A Reporter (rerecording/reporting.py) over stdout, stderr and a prompt on stdin."""

    as_json: bool
    interactive: bool

    def warn(self, message: str) -> None:
        warn(message)

    def lines(self, items: Iterable[Any]) -> None:
        echo_json_lines(items)

    def plan(self, plan: Plan) -> None:
        render.render_plan(plan)

    def progress(self, total: int, label: str) -> AbstractContextManager[Callable[[], None]]:
        return render.progress_bar(total, label)

    def results(self, results: Sequence[FileResult]) -> None:
        render.render_results(results)

    def outcome(
        self, outcome: Outcome, classes: dict[str, list[str]], reports: Sequence[PairReport], pruned: Sequence[str]
    ) -> None:
        from llm_fixtures.render.diff import render_human

        render.render_outcome(outcome, classes, pruned)
        render_human(reports, "before the run", "after the run", show_all=False)

    def restored(self, restored: Restored, status: str) -> None:
        render.render_restored(restored, status)

    def recovered(self, recovered: Sequence[Recovered]) -> None:
        render.render_recovered(recovered)

    def pending(self, entries: Sequence[PendingEntry], reports: Sequence[PairReport]) -> None:
        from llm_fixtures.render.diff import render_human
        from llm_fixtures.rerecording.pendingdiff import CURRENT, PENDING

        render.render_pending(entries)
        render_human(reports, CURRENT, PENDING, show_all=False)

    def ask(self, test: PendingTest, index: int, total: int, classes: dict[str, list[str]]) -> str:
        render.render_review_item(test, index, total, classes)
        answer: str = typer.prompt(render.REVIEW_PROMPT, default="s", show_default=False)
        return answer
