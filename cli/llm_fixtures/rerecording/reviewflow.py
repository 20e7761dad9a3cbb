"""Reviewing re-recordings: stage what a run produced, then ask per test in a terminal (or say how to decide
later), and `--pending` / `--accept` / `--reject` on what is staged. The store is rerecording/review.py."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llm_fixtures.config import Project
from llm_fixtures.humanizing import plural
from llm_fixtures.rerecording import review
from llm_fixtures.rerecording.reporting import Reporter


def stage_and_review(
    project: Project, items: Sequence[tuple[Path, bytes, str | None]], runner_name: review.Runner, reporter: Reporter
) -> None:
    """Stage `(target, new bytes, test id)` items; review them now when a person can answer, else say how."""
    entries = review.stage(project.root, items, runner_name)
    if not entries:
        reporter.warn("nothing to stage")
        return
    if reporter.interactive:
        _review_interactively(project, entries, reporter)
    else:
        reporter.warn(
            f"{plural(len(entries), 'recording')} staged for review; `fixtures rerecord --pending` lists them, "
            "`--accept` / `--reject` [TEST...] decides"
        )


def _classes_of(project: Project, entries: Sequence[review.PendingEntry]) -> dict[str, list[str]]:
    """The diff classes of each staged recording against the file it replaces, as `fixtures diff` gives them."""
    # Imported here: listing, accepting and rejecting never need the diff machinery.
    from llm_fixtures.rerecording.pendingdiff import pending_diff
    from llm_fixtures.rerecording.summary import classes_by_path

    return classes_by_path(pending_diff(project, entries=entries).reports)


def _review_interactively(project: Project, entries: Sequence[review.PendingEntry], reporter: Reporter) -> None:
    tests = review.by_test(entries)
    classes = _classes_of(project, entries)

    def ask(test: review.PendingTest, index: int, total: int) -> str:
        return reporter.ask(test, index, total, classes)

    decisions = review.decide(tests, ask)
    accepted = [e for i, t in enumerate(tests) if decisions[i] == "accept" for e in t.entries]
    rejected = [e for i, t in enumerate(tests) if decisions[i] == "reject" for e in t.entries]
    review.accept(project.root, accepted)
    review.reject(project.root, rejected)
    left = len(entries) - len(accepted) - len(rejected)
    reporter.warn(f"accepted {len(accepted)}, rejected {len(rejected)}, {left} still pending")


def act_on_pending(project: Project, refs: list[str], *, pending: bool, accept: bool, reporter: Reporter) -> int:
    """`--pending` lists the staged recordings (of `refs`, or all) with the semantic diff of each against the file
    it replaces; `--accept` writes them; else they are rejected. The exit code (always 0: nothing pending is not
    an error). A MANIFEST that is not one raises (one line, exit 2) before anything is written."""
    entries = review.matching(review.load_pending(project.root), refs)
    if pending:
        if not entries:
            reporter.warn("nothing pending")
            return 0
        from llm_fixtures.rerecording.pendingdiff import pending_diff
        from llm_fixtures.rerecording.summary import classes_by_path

        reports = pending_diff(project, entries=entries).reports
        if reporter.as_json:
            classes = classes_by_path(reports)
            reporter.lines(review.PendingLine(**e.model_dump(), changes=classes.get(e.target, [])) for e in entries)
        else:
            reporter.pending(entries, reports)
        return 0
    if not entries:
        reporter.warn("nothing pending" + (" for " + ", ".join(refs) if refs else ""))
        return 0
    if accept:
        written = review.accept(project.root, entries)
        reporter.warn(f"accepted {plural(len(written), 'recording')}")
    else:
        count = review.reject(project.root, entries)
        reporter.warn(f"rejected {plural(count, 'recording')}; the old files were never touched")
    return 0
