"""One `fixtures rerecord` run without its command line: select the recordings, plan, then show the plan
(`--dry-run`) or hand it to the runner's flow (pytestflow.py or httpflow.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from llm_fixtures.cassettes.describing import CassetteFacts
from llm_fixtures.config import Project
from llm_fixtures.errors import UsageError
from llm_fixtures.filtering import Filters
from llm_fixtures.rerecording import plan as planning
from llm_fixtures.rerecording.leftovers import refuse_if_any
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.rerecording.selection import select


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
    """The exit code: 0 all went well (or no recording matched); 1 a run or a request failed, or a selected test
    re-recorded nothing; 2 nothing could be selected because the files given cannot be read; 130 interrupted.
    UsageError (exit 2) when nothing can start; FixtureError (exit 2) when a backup is there, of a run still
    going or left over by one that died (`--restore` puts it back)."""
    if not request.dry_run:
        refuse_if_any(project.root)
    if request.review:
        from llm_fixtures.rerecording.review import load_pending

        load_pending(project.root)  # a damaged pending MANIFEST stops here, before anything runs or is sent
    cassettes, recordings_too, unreadable = _cassettes(project, request)
    if not cassettes:
        return _rerecord_recordings(project, request, reporter)
    from llm_fixtures.cassettes.rerecording import rerecord_cassettes

    if not recordings_too:  # else the recordings' part reports every unreadable file of the selection
        for problem in unreadable:
            reporter.warn(problem)
    code = rerecord_cassettes(project, cassettes, request, reporter, alone=not recordings_too)
    if code == 130:
        return code
    if not recordings_too:
        return max(code, 1 if unreadable else 0)
    return max(code, _rerecord_recordings(project, request, reporter))


def _rerecord_recordings(project: Project, request: Request, reporter: Reporter) -> int:
    """The recordings part of a re-record (after the cassettes, when the selection holds both)."""
    selection = select(request.refs, request.filters, request.stale, request.everything, project)
    for problem in selection.problems:
        reporter.warn(problem)
    if not selection.chosen:
        reporter.warn("no recording matches the selection")
        return 2 if selection.problems else 0  # the files asked for are unreadable: bad input, not "nothing to do"
    plan = planning.build_plan(
        selection.chosen, request.runner, request.base_url, request.api_key_env, root=project.root
    )
    if request.runner == "pytest":
        from llm_fixtures.rerecording.recordplan import plan_record_runs

        plan = plan_record_runs(plan, project, os.environ)
    if request.dry_run:
        if reporter.json:
            reporter.lines(plan.items)
        else:
            reporter.plan(plan)
        return 0
    _warn_skipped(plan, reporter)
    if plan.to_do == 0:
        raise UsageError(f"none of the {len(plan.items)} selected recording(s) can be re-recorded this way")
    if request.runner == "http":
        from llm_fixtures.rerecording.httpflow import rerecord_over_http
        from llm_fixtures.rerecording.httprunner import HttpOptions

        return rerecord_over_http(
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
    from llm_fixtures.rerecording.pytestflow import rerecord_with_pytest

    return rerecord_with_pytest(
        project,
        plan,
        keep_partial=request.keep_partial,
        prune_superseded=request.prune_superseded,
        review=request.review,
        reporter=reporter,
    )


def _cassettes(project: Project, request: Request) -> tuple[list[CassetteFacts], bool, list[str]]:
    """The VCR cassettes the request selects (by reference, or by the filters or `--all`), paths relative to the
    project root; whether it selects recordings too (their part reports their unreadable files); the selected
    cassettes that cannot be read (`path: what is wrong`)."""
    from llm_fixtures.cassettes.cataloging import select_cassettes
    from llm_fixtures.catalog import load_catalog
    from llm_fixtures.discovery import is_cassette_name
    from llm_fixtures.resolving import resolve_refs

    if request.stale or not (request.refs or request.everything or request.filters != Filters()):
        return [], True, []
    paths = resolve_refs(request.refs, project) if request.refs else None
    if paths is not None and not any(is_cassette_name(str(path)) for path in paths):
        return [], True, []
    catalog = load_catalog(paths, project, base=project.root)
    broken = [problem for problem in catalog.problems if is_cassette_name(str(problem.path))]
    recordings = bool(planning.select_facts(catalog.facts, request.filters)) or len(broken) < len(catalog.problems)
    return select_cassettes(catalog.cassettes, request.filters), recordings, [str(problem) for problem in broken]


def _warn_skipped(plan: planning.Plan, reporter: Reporter) -> None:
    """A refused test id is said file by file (`path: what is wrong`); other reasons once, with a count."""
    reasons: dict[str, int] = {}
    for item in plan.items:
        if item.action == "skip" and item.refused:
            reporter.warn(f"{item.path}: {item.reason}")
        elif item.action == "skip":
            reasons[item.reason or "?"] = reasons.get(item.reason or "?", 0) + 1
    for reason, count in sorted(reasons.items()):
        reporter.warn(f"skipped {count} recording(s): {reason}")
