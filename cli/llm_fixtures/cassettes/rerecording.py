"""`fixtures rerecord` of cassettes: their tests run by pytest in rewrite mode (pytest-recording's
`--record-mode=rewrite`, pytest-vcr's `--vcr-record=all`), with the same backup, restore and review as recordings.

The test of each cassette is the one the static prune tier finds for it (`cassettes.orphans`); a cassette whose test
cannot be found is named and left alone. The backup holds every selected cassette and notes what each cassette folder
held, so a failed or interrupted run puts every byte back and removes what it created.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_fixtures.cassettes.describing import CassetteFacts
from llm_fixtures.cassettes.naming import node_id_of_path
from llm_fixtures.cassettes.orphans import judge_cassettes
from llm_fixtures.config import Project
from llm_fixtures.errors import UsageError
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.settings import RerecordSettings

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
            text = (root / name).read_text()
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
    """Each cassette with the test that records it (`run`), or why it cannot be re-recorded (`skip`)."""
    verdicts = judge_cassettes([(facts.path, str(root / facts.path), facts.bytes) for facts in chosen], root)
    items: list[CassettePlanItem] = []
    for facts, verdict in zip(chosen, verdicts, strict=True):
        test_id = verdict.test_id or (node_id_of_path(facts.path) if verdict.status == "kept" else None)
        if verdict.status == "kept" and test_id:
            items.append(CassettePlanItem(facts.path, test_id, "run"))
        elif verdict.status == "orphan":
            items.append(CassettePlanItem(facts.path, test_id, "skip", f"its test is gone ({verdict.reason})"))
        else:
            items.append(CassettePlanItem(facts.path, test_id, "skip", verdict.reason or "no test found"))
    return items


def rerecord_cassettes(
    project: Project,
    chosen: Sequence[CassetteFacts],
    *,
    dry_run: bool,
    keep_partial: bool,
    review: bool,
    reporter: Reporter,
) -> int:
    """Re-record the cassettes `chosen` (paths relative to the project root) through their tests; the exit code
    as for recordings (0 all went well; 1 the run failed or a cassette was not re-recorded; 130 interrupted)."""
    from llm_fixtures.diffing.sides import volatility_of
    from llm_fixtures.rerecording import backup as backups
    from llm_fixtures.rerecording import pytestrunner as runner
    from llm_fixtures.rerecording.outcome import compare, outcome_lines
    from llm_fixtures.rerecording.reviewflow import stage_and_review
    from llm_fixtures.rerecording.summary import classes_by_path, diff_run

    root = project.root
    items = plan_cassettes(chosen, root)
    for item in items:
        if item.action == "skip":
            reporter.warn(f"{item.path}: not re-recorded: {item.reason}")
    todo = [item for item in items if item.action == "run"]
    if not todo:
        raise UsageError(f"none of the {len(items)} selected cassette(s) has a test to re-record it with")
    tests = sorted({item.test_id for item in todo if item.test_id})
    argv, env = build_vcr_command(project.settings.rerecord, detect_plugin(root), tests)
    if dry_run:
        if reporter.json:
            reporter.lines(items)
        else:
            for item in items:
                reporter.warn(f"{item.action}  {item.path}  {item.test_id or ''}")
            reporter.warn(f"would run: {shlex.join(argv)}")
        return 0
    watched = sorted({(root / item.path).parent for item in todo})
    # Every cassette of those folders: a test run whole (or a fixture shared by tests) may rewrite its neighbours.
    paths = sorted({root / item.path for item in todo} | set(_cassettes_in(watched)))
    backup = backups.take_backup(root, paths, watched)
    reporter.warn(f"backed up {len(backup.copies)} cassette(s) of {len(tests)} test(s)")
    settings = " ".join(f"{name}={value}" for name, value in sorted(env.items()))
    reporter.warn(f"running: {settings + ' ' if settings else ''}{shlex.join(argv)}")
    keep = () if backup.lock is None else (backup.lock,)
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
    test_of: dict[Path, str | None] = {root / item.path: item.test_id for item in todo}
    reviewing = review and status == "passed"
    try:
        outcome = compare(backup, root, test_of)
        reports = diff_run(backup, outcome, root, volatility_of(project))
        fresh = [(root / path, (root / path).read_bytes()) for path in [*outcome.changed, *outcome.new]]
    except BaseException:
        if reviewing:
            backups.restore(backup, root)
        backups.discard(backup)
        raise
    classes = _classes_by_cassette(classes_by_path(reports))
    if reviewing:
        backups.restore(backup, root)
        backups.discard(backup)
        stage_and_review(project, [(path, data, test_of.get(path)) for path, data in fresh], "pytest", reporter)
        return 0
    backups.discard(backup)
    if reporter.json:
        reporter.lines(outcome_lines(outcome, classes))
    else:
        reporter.outcome(outcome, classes, reports, [])
    if status != "passed":
        reporter.warn(f"the run {status} (exit {exit_code}); what it wrote was kept (--keep-partial)")
        return 130 if status == "interrupted" else 1
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
