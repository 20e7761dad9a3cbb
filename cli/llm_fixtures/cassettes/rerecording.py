"""`fixtures rerecord` of cassettes: their tests run by pytest in rewrite mode (pytest-recording's
`--record-mode=rewrite`, pytest-vcr's `--vcr-record=all`), with the same backup, restore and review as recordings
(`--runner http` resends their requests instead: `cassettes.resending`).

The test of each cassette is the one the static prune tier finds for it (`cassettes.orphans`); a cassette whose test
cannot be found, or whose node id may not reach pytest's command line, is named and left alone. The backup holds
every selected cassette and notes what each cassette folder held, so a failed or interrupted run puts every byte back
and removes what it created.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from llm_fixtures.cassettes.describing import CassetteFacts
from llm_fixtures.cassettes.naming import node_id_of_path
from llm_fixtures.cassettes.orphans import judge_cassettes
from llm_fixtures.config import Project
from llm_fixtures.errors import UsageError
from llm_fixtures.humanizing import plural
from llm_fixtures.nodeids import shown
from llm_fixtures.rerecording.nodeids import node_id_problem
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.safepaths import read_regular
from llm_fixtures.settings import RerecordSettings
from llm_fixtures.testfiles import MAX_TEST_FILE

if TYPE_CHECKING:
    from llm_fixtures.rerecording.session import Request

NODE_IDS = "{node_ids}"
PYTHON = "{python}"
# What puts a VCR test suite in rewrite mode, by plugin: every interaction recorded again, the old ones dropped.
REWRITE_FLAGS = {"pytest-recording": "--record-mode=rewrite", "pytest-vcr": "--vcr-record=all"}
_MARKERS = ("pyproject.toml", "setup.cfg", "requirements-dev.txt", "requirements.txt", "tox.ini", "conftest.py")


@dataclass(frozen=True, slots=True)
class CassettePlanItem:
    """One selected cassette: its test, and whether it can be re-recorded."""

    path: str
    test_id: str | None
    action: str
    reason: str | None = None


def detect_plugin(root: Path) -> str:
    """`pytest-vcr` when the project names it (or its `vcr_cassette_name` fixture), else `pytest-recording`."""
    for name in _MARKERS:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            text = read_regular(root / name, MAX_TEST_FILE).decode()  # never blocks on a FIFO
            if "pytest-vcr" in text or "pytest_vcr" in text or "vcr_cassette_name" in text:
                return "pytest-vcr"
    return "pytest-recording"


def build_vcr_command(
    settings: RerecordSettings, plugin: str, node_ids: Sequence[str], python: str = sys.executable
) -> tuple[list[str], dict[str, str]]:
    """The argv and the environment additions of the rewrite run: `[tool.fixtures.rerecord] command` (with
    `{node_ids}` in place and `{python}` as this interpreter) and `env` when set, else `pytest <rewrite flag>
    <node ids>`; the rewrite flag is added before the node ids unless the command gives a record mode."""
    flag = REWRITE_FLAGS[plugin]
    template = list(settings.command) if settings.command else ["pytest", flag, NODE_IDS]
    if NODE_IDS not in template:
        template.append(NODE_IDS)
    argv: list[str] = []
    for part in template:
        if part == NODE_IDS:
            if not any(word.startswith(flag.split("=", 1)[0]) for word in template):
                argv.append(flag)
            argv.extend(node_ids)
        else:
            argv.append(part.replace(PYTHON, python))
    return argv, dict(settings.env)


def plan_cassettes(chosen: Sequence[CassetteFacts], root: Path) -> list[CassettePlanItem]:
    """Each cassette with the test that records it (`run`), or why it cannot be re-recorded (`skip`): no test
    found, its test gone, or a node id that may not reach pytest's command line (`rerecording.nodeids`)."""
    verdicts = judge_cassettes([(facts.path, str(root / facts.path), facts.bytes) for facts in chosen], root)
    items: list[CassettePlanItem] = []
    for facts, verdict in zip(chosen, verdicts, strict=True):
        test_id = verdict.test_id or (node_id_of_path(facts.path) if verdict.status == "kept" else None)
        problem = node_id_problem(test_id, root) if test_id else None
        if verdict.status == "kept" and test_id and problem is None:
            items.append(CassettePlanItem(facts.path, test_id, "run"))
        elif verdict.status == "kept" and test_id:
            reason = f"test id {shown(test_id)} may not be given to pytest ({problem}); not run"
            items.append(CassettePlanItem(facts.path, None, "skip", reason))
        elif verdict.status == "orphan":
            items.append(CassettePlanItem(facts.path, test_id, "skip", f"its test is gone ({verdict.reason})"))
        else:
            items.append(CassettePlanItem(facts.path, test_id, "skip", verdict.reason or "no test found"))
    return items


def rerecord_cassettes(
    project: Project, chosen: Sequence[CassetteFacts], request: Request, reporter: Reporter, *, alone: bool = True
) -> int:
    """Re-record the cassettes `chosen` (paths relative to the project root) with the runner asked for; the exit
    code as for recordings (0 all went well; 1 a run or a request failed, or a cassette was not re-recorded; 130
    interrupted). When nothing can be re-recorded: UsageError if the selection is `alone` (holds no recordings),
    else exit code 1 and the recordings go on."""
    if request.runner == "http":
        from llm_fixtures.cassettes.resending import rerecord_over_http

        return rerecord_over_http(project, chosen, request, reporter, alone=alone)
    items = plan_cassettes(chosen, project.root)
    for item in items:
        if item.action == "skip":
            reporter.warn(f"{item.path}: not re-recorded: {item.reason}")
    todo = [item for item in items if item.action == "run"]
    if not todo:
        return nothing_to_do(
            f"none of the {plural(len(items), 'selected cassette')} has a test to re-record it with", alone, reporter
        )
    tests = sorted({item.test_id for item in todo if item.test_id})
    argv, env = build_vcr_command(project.settings.rerecord, detect_plugin(project.root), tests)
    if request.dry_run:
        if reporter.as_json:
            reporter.lines(items)
        else:
            for item in items:
                reporter.warn(f"{item.action}  {item.path}  {item.test_id or ''}")
            reporter.warn(f"would run: {shlex.join(argv)}")
        return 0
    return _run(project, todo, tests, argv, env, request, reporter)


def nothing_to_do(message: str, alone: bool, reporter: Reporter) -> int:
    """When no selected cassette can be re-recorded: UsageError if the selection holds only cassettes, else the
    message said and exit code 1 (the recordings go on)."""
    if alone:
        raise UsageError(message)
    reporter.warn(message)
    return 1


def _run(
    project: Project,
    todo: Sequence[CassettePlanItem],
    tests: Sequence[str],
    argv: list[str],
    env: dict[str, str],
    request: Request,
    reporter: Reporter,
) -> int:
    """The rewrite run with the cassettes backed up (rerecording.pytestflow.run_with_backup), then what it did."""
    from llm_fixtures.diffing.sides import volatility_of
    from llm_fixtures.rerecording import backup as backups
    from llm_fixtures.rerecording import pytestrunner as runner
    from llm_fixtures.rerecording.outcome import outcome_lines
    from llm_fixtures.rerecording.pytestflow import run_with_backup
    from llm_fixtures.rerecording.reviewflow import stage_and_review
    from llm_fixtures.rerecording.summary import classes_by_path

    root = project.root
    watched = sorted({(root / item.path).parent for item in todo})
    # Every cassette of those folders: a test run whole (or a fixture shared by tests) may rewrite its neighbours.
    paths = sorted({root / item.path for item in todo} | set(_cassettes_in(watched)))
    # With the tests named, a failed run puts back only what they wrote: a cassette named after another test
    # was written by someone else meanwhile, and stays (naming.owner_of).
    backup = backups.take_backup(root, paths, watched, tests=tests)
    reporter.warn(f"backed up {plural(len(backup.copies), 'cassette')} of {plural(len(tests), 'test')}")
    settings = " ".join(f"{name}={value}" for name, value in sorted(env.items()))
    reporter.warn(f"running: {settings + ' ' if settings else ''}{shlex.join(argv)}")

    def run() -> tuple[runner.RunStatus, int, str]:
        keep = () if backup.lock is None else (backup.lock,)
        status, exit_code = runner.run_tests(argv, env, root, reporter.warn, keep)
        return status, exit_code, "was interrupted" if status == "interrupted" else f"failed (exit {exit_code})"

    test_of: dict[Path, str | None] = {root / item.path: item.test_id for item in todo}
    finished = run_with_backup(
        backup,
        root,
        run,
        test_of,
        volatility=volatility_of(project),
        staged=lambda outcome: [
            (root / path, read_regular(root / path), test_of.get(root / path))
            for path in [*outcome.changed, *outcome.new]
        ],
        keep_partial=request.keep_partial,
        review=request.review,
        reporter=reporter,
    )
    if isinstance(finished, int):
        return finished
    outcome = finished.outcome
    classes = _classes_by_cassette(classes_by_path(finished.reports))
    if finished.reviewing:
        stage_and_review(project, finished.fresh, "pytest", reporter)
        return 0
    if reporter.as_json:
        reporter.lines(outcome_lines(outcome, classes))
    else:
        reporter.outcome(outcome, classes, finished.reports, [])
    if finished.status != "passed":
        code = finished.exit_code
        reporter.warn(f"the run {finished.status} (exit {code}); what it wrote was kept (--keep-partial)")
        return 130 if finished.status == "interrupted" else 1
    return 1 if outcome.not_rerecorded else 0


def _cassettes_in(folders: Sequence[Path]) -> list[Path]:
    from llm_fixtures.discovery import is_cassette_name

    return [path for folder in folders for path in folder.iterdir() if path.is_file() and is_cassette_name(path.name)]


def _classes_by_cassette(classes: dict[str, list[str]]) -> dict[str, list[str]]:
    """The classes of change of each cassette: the union over its interactions (`path#i`)."""
    merged: dict[str, list[str]] = {}
    for key, found in classes.items():
        path = key.rsplit("#", 1)[0]
        merged[path] = sorted(set(merged.get(path, [])) | set(found))
    return merged
