"""A record run from start to end: back up every recording of the selected tests, run them in record mode
(rerecording/pytestrunner.py), then either put the backup back (the run failed or was interrupted) or say what
changed, and stage the new recordings for review or name (or prune) the ones the run superseded."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import orjson

from llm_fixtures.catalog import load_catalog
from llm_fixtures.config import Project
from llm_fixtures.diffing.report import PairReport
from llm_fixtures.diffing.sides import volatility_of
from llm_fixtures.discovery import default_roots
from llm_fixtures.rerecording import backup as backups
from llm_fixtures.rerecording import plan as planning
from llm_fixtures.rerecording import pytestrunner as runner
from llm_fixtures.rerecording.outcome import Outcome, compare, outcome_lines
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.rerecording.reviewflow import stage_and_review
from llm_fixtures.rerecording.summary import classes_by_path, diff_run
from llm_fixtures.rerecording.superseded import supersede


def _test_id_of(data: bytes) -> str | None:
    """The test id a new recording names (top level, else in its request), for staging it under its test."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    test_id = raw.get("test_id")
    request = raw.get("request")
    if test_id is None and isinstance(request, dict):
        test_id = request.get("test_id")
    return test_id if isinstance(test_id, str) else None


def rerecord_with_pytest(
    project: Project,
    plan: planning.Plan,
    *,
    keep_partial: bool,
    prune_superseded: bool,
    review: bool,
    reporter: Reporter,
) -> int:
    """Run the plan's tests in record mode; the exit code (0 all went well; 1 the run failed or a selected test
    wrote nothing; 130 interrupted). Whatever happens, the backup is put back or forgotten before returning."""
    root = project.root
    tests = plan.tests
    argv, env = runner.build_command(project.settings.rerecord, runner.detect_preset(root), tests)
    every = load_catalog(None, project, base=root).facts
    recordings = sorted(
        set(planning.recordings_of_tests(every, tests, root))
        | {root / item.path for item in plan.items if item.action == "run"}
    )
    watched = runner.watched_folders(root, tests, recordings, default_roots(project))
    backup = backups.take_backup(root, recordings, watched)
    settings = " ".join(f"{name}={value}" for name, value in sorted(env.items()))
    reporter.warn(f"backed up {len(backup.copies)} recording(s) of {len(tests)} test(s)")
    reporter.warn(f"running: {settings} {shlex.join(argv)}")
    keep = () if backup.lock is None else (backup.lock,)  # the tests hold the lock too, should this process die
    try:
        status, exit_code = runner.run_tests(argv, env, root, reporter.warn, keep)
    except BaseException:
        backups.restore(backup, root)
        backups.discard(backup)
        raise
    if status != "passed" and not keep_partial:
        restored = backups.restore(backup, root)
        backups.discard(backup)
        reporter.restored(restored, "was interrupted" if status == "interrupted" else f"failed (exit {exit_code})")
        return 130 if status == "interrupted" else 1
    test_of = {root / f.path: f.test_id for f in every} | {root / i.path: i.test_id for i in plan.items}
    reviewing = review and status == "passed"
    try:
        outcome = compare(backup, root, test_of)
        reports = diff_run(backup, outcome, root, volatility_of(project))
        changed = [*outcome.changed, *outcome.new] if reviewing else []
        fresh = [(root / path, (root / path).read_bytes()) for path in changed]
    except BaseException:
        # The run has finished: its backup must not outlive this process as a leftover that `--restore` would
        # take for an unfinished run's. Under review nothing may replace a file before it is accepted.
        if reviewing:
            backups.restore(backup, root)
        backups.discard(backup)
        raise
    classes = classes_by_path(reports)
    if reviewing:
        backups.restore(backup, root)
        backups.discard(backup)
        _show(outcome, classes, reports, [], reporter)
        stage_and_review(project, [(path, data, _test_id_of(data)) for path, data in fresh], "pytest", reporter)
        return 0
    backups.discard(backup)
    pruned = (
        supersede(project, [root / path for path in outcome.superseded], prune_superseded, reporter.warn)
        if outcome.superseded and prune_superseded and status == "passed"
        else []
    )
    _show(outcome, classes, reports, pruned, reporter)
    if not pruned and outcome.superseded and reporter.json:
        reporter.warn(f"{len(outcome.superseded)} superseded recording(s) kept; --prune-superseded removes them")
    if outcome.not_rerecorded and reporter.json:
        reporter.warn(
            f"{len(outcome.not_rerecorded)} recording(s) not re-recorded: their tests wrote nothing (skipped?)"
        )
    if status != "passed":
        reporter.warn(f"the run {status} (exit {exit_code}); what it wrote was kept (--keep-partial)")
        return 130 if status == "interrupted" else 1
    return 1 if outcome.not_rerecorded else 0


def _show(
    outcome: Outcome,
    classes: dict[str, list[str]],
    reports: Sequence[PairReport],
    pruned: Sequence[str],
    reporter: Reporter,
) -> None:
    """Each file by what happened to it, then (human output) the `fixtures diff` of the run, noise folded."""
    if reporter.json:
        reporter.lines(outcome_lines(outcome, classes))
    else:
        reporter.outcome(outcome, classes, reports, pruned)
