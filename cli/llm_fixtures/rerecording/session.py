"""One `fixtures rerecord` run without its command line: select the recordings, plan, then show the plan
(`--dry-run`) or hand it to the runner's flow (pytestflow.py or httpflow.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from llm_fixtures.cassettes.describing import CassetteFacts
from llm_fixtures.config import Project
from llm_fixtures.errors import UsageError
from llm_fixtures.filtering import Filters
from llm_fixtures.humanizing import plural
from llm_fixtures.rerecording import plan as planning
from llm_fixtures.rerecording.leftovers import refuse_if_any
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.rerecording.selection import Resolved, resolve, select


@dataclass(frozen=True, slots=True)
class Request:
    """What was asked for, with `[tool.fixtures.rerecord]` already applied under the flags."""

    refs: list[str]
    filters: Filters
    stale: bool
    everything: bool
    runner: planning.Runner
    dry_run: bool
    base_url: str | None
    api_key_env: str | None
    jobs: int
    timeout: float
    deadline: float
    retries: int
    keep_partial: bool
    prune_superseded: bool
    review: bool


def rerecord(project: Project, request: Request, reporter: Reporter) -> int:
    """The exit code: 0 all went well (or no recording matched); 1 a run or a request failed, a selected test
    re-recorded nothing, or a file selected could not be read (each said in one line, the rest re-recorded); 2
    nothing could be selected because the files given cannot be read; 130 interrupted. A selection of cassettes
    and recordings re-records the cassettes, then the recordings (the worse exit code of the two).
    UsageError (exit 2) when nothing can start; FixtureError (exit 2) when a backup is there, of a run still
    going or left over by one that died (`--restore` puts it back)."""
    if not request.dry_run:
        refuse_if_any(project.root)
    if request.review:
        from llm_fixtures.rerecording.review import load_pending

        load_pending(project.root)  # a damaged pending MANIFEST stops here, before anything runs or is sent
    planning.require_choice(request.refs, request.filters, request.stale, request.everything)
    resolved = resolve(request.refs, project)
    cassettes, others, broken = _cassettes(project, request, resolved)
    if not cassettes:
        return _rerecord_recordings(project, request, resolved, reporter)
    from llm_fixtures.cassettes.rerecording import rerecord_cassettes

    if not others:  # else the recordings' part says every file of the selection that cannot be read
        for problem in [*resolved.problems, *broken]:
            reporter.warn(problem)
    code = rerecord_cassettes(project, cassettes, request, reporter, alone=not others)
    if code == 130 or not others:
        return code or (1 if resolved.problems or broken else 0)
    return max(code, _rerecord_recordings(project, request, resolved, reporter))


def _rerecord_recordings(project: Project, request: Request, resolved: Resolved, reporter: Reporter) -> int:
    """The recordings part of a re-record (after the cassettes, when the selection holds both)."""
    selection = select(resolved, request.filters, request.stale, project)
    for problem in selection.problems:
        reporter.warn(problem)
    bad = 1 if selection.problems else 0
    unrecorded = [] if request.stale else selection.unrecorded  # a test with no recording has none stale
    if not selection.chosen and not unrecorded:
        reporter.warn("no recording matches the selection")
        return 2 if selection.problems else 0  # the files asked for are unreadable: bad input, not "nothing to do"
    plan = planning.build_plan(
        selection.chosen, request.runner, request.base_url, request.api_key_env, root=project.root, tests=unrecorded
    )
    if request.runner == "pytest":
        from llm_fixtures.rerecording.recordplan import plan_record_runs

        plan = plan_record_runs(plan, project, os.environ)
    if request.dry_run:
        if reporter.as_json:
            reporter.lines(plan.items)
        else:
            reporter.plan(plan)
        return bad
    _warn_skipped(plan, reporter)
    if plan.to_do == 0:
        raise UsageError(f"none of the {plural(len(plan.items), 'selected recording')} can be re-recorded this way")
    if request.runner == "http":
        from llm_fixtures.rerecording.httpflow import rerecord_over_http
        from llm_fixtures.rerecording.httprunner import HttpOptions

        code = rerecord_over_http(
            project,
            selection.chosen,
            plan,
            base_url=request.base_url,
            api_key_env=request.api_key_env,
            options=HttpOptions(
                jobs=request.jobs, timeout=request.timeout, deadline=request.deadline, retries=request.retries
            ),
            review=request.review,
            prune_superseded=request.prune_superseded,
            reporter=reporter,
        )
        return code or bad
    from llm_fixtures.rerecording.pytestflow import rerecord_with_pytest

    code = rerecord_with_pytest(
        project,
        plan,
        keep_partial=request.keep_partial,
        prune_superseded=request.prune_superseded,
        review=request.review,
        reporter=reporter,
    )
    return code or bad


def _cassettes(project: Project, request: Request, resolved: Resolved) -> tuple[list[CassetteFacts], int, list[str]]:
    """The VCR cassettes the request selects (by reference, or by the filters or `--all`), paths relative to the
    project root ([] when it selects recordings, or nothing); how many recordings (or tests without any) it selects
    beside them (re-recorded after the cassettes); the selected cassettes that cannot be read."""
    from llm_fixtures.cassettes.cataloging import select_cassettes
    from llm_fixtures.catalog import load_catalog
    from llm_fixtures.discovery import is_cassette_name

    if request.stale or not (request.refs or request.everything or request.filters != Filters()):
        return [], 0, []
    paths = resolved.paths
    others = 0
    if paths is not None:
        others = len(resolved.unrecorded) + sum(not is_cassette_name(str(path)) for path in paths)
        paths = [path for path in paths if is_cassette_name(str(path))]
        if not paths:
            return [], others, []
    catalog = load_catalog(paths, project, base=project.root)
    if paths is None:
        others = len(planning.select_facts(catalog.facts, request.filters))
    broken = [str(problem) for problem in catalog.problems if is_cassette_name(str(problem.path))]
    return select_cassettes(catalog.cassettes, request.filters), others, broken


def _warn_skipped(plan: planning.Plan, reporter: Reporter) -> None:
    """A refused test id is said file by file (`path: what is wrong`); other reasons once, with a count."""
    reasons: dict[str, int] = {}
    for item in plan.items:
        if item.action == "skip" and item.refused:
            reporter.warn(f"{item.label}: {item.reason}")
        elif item.action == "skip":
            reasons[item.reason or "?"] = reasons.get(item.reason or "?", 0) + 1
    for reason, count in sorted(reasons.items()):
        reporter.warn(f"skipped {plural(count, 'recording')}: {reason}")
