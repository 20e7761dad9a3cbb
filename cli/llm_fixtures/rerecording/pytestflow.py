"""A record session from start to end: back up every recording the planned runs may write, run them one after
the other in record mode (rerecording/pytestrunner.py), then either put the backup back (a run failed or was
interrupted: every file as it was) or say what changed, and stage the new recordings for review or name (or prune)
the ones the runs superseded."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_fixtures import nodeids
from llm_fixtures.catalog import load_catalog
from llm_fixtures.config import Project
from llm_fixtures.diffing.report import PairReport
from llm_fixtures.diffing.sides import volatility_of
from llm_fixtures.diffing.volatility import Volatility
from llm_fixtures.discovery import default_roots
from llm_fixtures.humanizing import plural
from llm_fixtures.rerecording import backup as backups
from llm_fixtures.rerecording import plan as planning
from llm_fixtures.rerecording import pytestrunner as runner
from llm_fixtures.rerecording.backup import Backup, owner, test_id_in
from llm_fixtures.rerecording.outcome import Outcome, compare, outcome_lines
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.rerecording.reviewflow import stage_and_review
from llm_fixtures.rerecording.summary import classes_by_path, diff_run
from llm_fixtures.rerecording.superseded import supersede
from llm_fixtures.safepaths import read_regular


def _run_all(plan: planning.Plan, root: Path, backup: Backup, reporter: Reporter) -> tuple[runner.RunStatus, int, int]:
    """Run every planned command in turn, stopping at the first that does not pass: (status, exit code, how many
    ran). The tests hold the backup's lock too, should this process die."""
    keep = () if backup.lock is None else (backup.lock,)
    total = len(plan.runs)
    for number, run in enumerate(plan.runs, 1):
        counter = f" {number} of {total}" if total > 1 else ""
        reporter.warn(f"running{counter}: {run.shell}")
        status, code = runner.run_tests(run.argv, run.env, root, reporter.warn, keep)
        if status != "passed":
            return status, code, number
    return "passed", 0, total


def _put_back(backup: Backup, root: Path, status: str, reporter: Reporter) -> None:
    restored = backups.restore(backup, root)
    backups.discard(backup, root)
    reporter.restored(restored, status)


@dataclass(slots=True)
class Finished:
    """A record run that is over and judged, its backup gone: how it ended, what it did to the watched files and
    their diff, and under review (`reviewing`: it passed and the files were put back) what it wrote."""

    status: runner.RunStatus
    exit_code: int
    outcome: Outcome
    reports: list[PairReport]
    fresh: list[tuple[Path, bytes, str | None]]
    reviewing: bool


def run_with_backup(
    backup: Backup,
    root: Path,
    run: Callable[[], tuple[runner.RunStatus, int, str]],
    test_of: dict[Path, str | None],
    *,
    volatility: Volatility,
    staged: Callable[[Outcome], list[tuple[Path, bytes, str | None]]],
    keep_partial: bool,
    review: bool,
    reporter: Reporter,
) -> Finished | int:
    """Run the tests (`run` gives the status, exit code and how to say a failure) with `backup` taken, then put
    every file back when the run failed or was interrupted (the exit code: 1, or 130) unless `keep_partial`; else
    compare and diff what it wrote, and under review (`staged` gives what to stage) put the old files back. The
    backup is put back or forgotten before this returns or raises."""
    try:
        status, exit_code, said = run()
    except BaseException:
        backups.restore(backup, root)
        backups.discard(backup, root)
        raise
    if status != "passed" and not keep_partial:
        _put_back(backup, root, said, reporter)
        return 130 if status == "interrupted" else 1
    reviewing = review and status == "passed"
    try:
        outcome = compare(backup, root, test_of)
        reports = diff_run(backup, outcome, root, volatility)
        fresh = staged(outcome) if reviewing else []
    except BaseException:
        # The runs have finished: the backup must not outlive this process as a leftover that `--restore` would
        # take for an unfinished run's. Under review nothing may replace a file before it is accepted.
        if reviewing:
            backups.restore(backup, root)
        backups.discard(backup, root)
        raise
    if reviewing:
        backups.restore(backup, root)
    backups.discard(backup, root)
    return Finished(status, exit_code, outcome, reports, fresh, reviewing)


def rerecord_with_pytest(
    project: Project,
    plan: planning.Plan,
    *,
    keep_partial: bool,
    prune_superseded: bool,
    review: bool,
    reporter: Reporter,
) -> int:
    """Run the plan's record runs; the exit code (0 all went well; 1 a run failed or a selected test wrote
    nothing; 130 interrupted). Whatever happens, the backup is put back or forgotten before returning."""
    root = project.root
    tests = [test for run in plan.runs for test in run.tests]
    every = load_catalog(None, project, base=root).facts
    recordings = sorted(
        set(planning.recordings_of_tests(every, tests, root))
        | {root / item.path for item in plan.items if item.action == "run" and item.path is not None}
    )
    reach, notes = runner.reach(root, tests, recordings, os.environ)
    for note in notes:
        reporter.warn(note)
    backup = backups.take_backup(root, recordings, default_roots(project), reach=reach, tests=tests)
    others = len(backup.copies) - len(recordings)
    extra = f" and {plural(others, 'other file')} of the folders the run can write to" if others > 0 else ""
    reporter.warn(f"backed up {plural(len(recordings), 'recording')} of {plural(len(tests), 'test')}{extra}")

    def run_all() -> tuple[runner.RunStatus, int, str]:
        status, exit_code, ran = _run_all(plan, root, backup, reporter)
        said = "was interrupted" if status == "interrupted" else f"failed (exit {exit_code})"
        which = f" at run {ran} of {len(plan.runs)}" if len(plan.runs) > 1 else ""
        return status, exit_code, f"{said}{which}"

    test_of = {root / f.path: f.test_id for f in every}
    test_of |= {root / i.path: i.test_id for i in plan.items if i.path is not None}
    finished = run_with_backup(
        backup,
        root,
        run_all,
        test_of,
        volatility=volatility_of(project),
        staged=lambda outcome: _staged(backup, outcome, root),
        keep_partial=keep_partial,
        review=review,
        reporter=reporter,
    )
    if isinstance(finished, int):
        return finished
    status, exit_code, outcome, reports = finished.status, finished.exit_code, finished.outcome, finished.reports
    classes = classes_by_path(reports)
    if finished.reviewing:
        _show(outcome, classes, reports, [], reporter)
        stage_and_review(project, finished.fresh, "pytest", reporter)
        return 0
    pruned = (
        supersede(project, [root / path for path in outcome.superseded], prune_superseded, reporter.warn)
        if outcome.superseded and prune_superseded and status == "passed"
        else []
    )
    _show(outcome, classes, reports, pruned, reporter)
    if not pruned and outcome.superseded and reporter.as_json:
        reporter.warn(
            f"{plural(len(outcome.superseded), 'superseded recording')} kept; --prune-superseded removes them"
        )
    if outcome.not_rerecorded and reporter.as_json:
        reporter.warn(
            f"{plural(len(outcome.not_rerecorded), 'recording')} not re-recorded: their tests wrote nothing (skipped?)"
        )
    silent = _recorded_nothing(plan, outcome)
    for test in silent:
        shown = nodeids.shown(test, planning.LABEL_WIDTH)
        reporter.warn(f"{shown}: not recorded: the run wrote no recording of it (skipped, or it made no call?)")
    if status != "passed":
        reporter.warn(f"the run {status} (exit {exit_code}); what it wrote was kept (--keep-partial)")
        return 130 if status == "interrupted" else 1
    return 1 if outcome.not_rerecorded or silent else 0


def _recorded_nothing(plan: planning.Plan, outcome: Outcome) -> list[str]:
    """The tests selected without a recording (by node id) of which the run wrote none."""
    new = [item.test_id for item in plan.items if item.path is None and item.action == "run" and item.test_id]
    done = {node for test in outcome.tests_written for node in nodeids.selecting(test)}
    return [test for test in new if test not in done]


def _staged(backup: Backup, outcome: Outcome, root: Path) -> list[tuple[Path, bytes, str | None]]:
    """What the runs wrote, to stage for review: `(target, new bytes, test id)` of each changed or new file that
    is the run's (another process's files are not staged, and stay as they are)."""
    staged: list[tuple[Path, bytes, str | None]] = []
    for shown in [*outcome.changed, *outcome.new]:
        path = root / shown
        if owner(path, backup, appeared=shown in outcome.new) == "other":
            continue
        data = read_regular(path)
        staged.append((path, data, test_id_in(data)))
    return staged


def _show(
    outcome: Outcome,
    classes: dict[str, list[str]],
    reports: Sequence[PairReport],
    pruned: Sequence[str],
    reporter: Reporter,
) -> None:
    """Each file by what happened to it, then (human output) the `fixtures diff` of the run, noise folded."""
    if reporter.as_json:
        reporter.lines(outcome_lines(outcome, classes))
    else:
        reporter.outcome(outcome, classes, reports, pruned)
