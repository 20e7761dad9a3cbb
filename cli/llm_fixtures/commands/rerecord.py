"""`fixtures rerecord`: re-record selected fixtures through the test suite (pytest) or against a live endpoint
(http), losing nothing: backups, atomic writes, and an optional review before anything replaces a file."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llm_fixtures.catalog import load_catalog
from llm_fixtures.commands.common import (
    EndpointOpt,
    ErrorsOpt,
    JsonOpt,
    KindOpt,
    ModelOpt,
    ProviderOpt,
    StreamOpt,
    TestOpt,
    echo_json_lines,
    handle_errors,
    make_filters,
    report_problems,
    warn,
)
from llm_fixtures.config import Project, load_project
from llm_fixtures.errors import BadRecording, UsageError
from llm_fixtures.facts import Facts
from llm_fixtures.filtering import Filters
from llm_fixtures.store import load_recording

if TYPE_CHECKING:
    from llm_fixtures.rerecording.plan import Plan


class RunnerChoice(StrEnum):
    pytest = "pytest"
    http = "http"


RefsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Recordings: paths, hash prefixes (6+ hex digits) or pytest node ids.", show_default=False),
]


def _resolve(refs: list[str], project: Project) -> list[Path]:
    from llm_fixtures.resolving import resolve_refs

    return resolve_refs(refs, project)


def _select(
    refs: list[str], filters: Filters, stale: bool, everything: bool, project: Project
) -> list[tuple[Facts, dict[str, Any]]]:
    """The selected recordings with their parsed content, in path order; unreadable ones reported on stderr."""
    from llm_fixtures.rerecording import plan as planning

    planning.require_choice(refs, filters, stale, everything)
    root = project.root
    paths = _resolve(refs, project) if refs else None
    catalog = load_catalog(paths, project, base=root)
    report_problems(catalog.problems)
    chosen: list[tuple[Facts, dict[str, Any]]] = []
    for facts in planning.select_facts(catalog.facts, filters):
        try:
            loaded = load_recording(root / facts.path, facts.path)
        except BadRecording as exc:
            warn(str(exc))
            continue
        if stale and not planning.is_stale(loaded.facts.name, loaded.raw):
            continue
        chosen.append((loaded.facts, loaded.raw))
    return chosen


def run(
    refs: RefsArg = None,
    *,
    test: TestOpt = None,
    endpoint: EndpointOpt = None,
    model: ModelOpt = None,
    provider: ProviderOpt = None,
    kind: KindOpt = None,
    stream: StreamOpt = None,
    errors: ErrorsOpt = False,
    stale: Annotated[bool, typer.Option("--stale", help="Only recordings whose name `check` flags.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Every recording (nothing is selected by default).")
    ] = False,
    runner: Annotated[
        RunnerChoice, typer.Option("--runner", help="pytest: run the tests in record mode; http: resend requests.")
    ] = RunnerChoice.pytest,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and the tokens used last time.")] = False,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="http: where to send (default: the recorded scheme, host and base path)."),
    ] = None,
    api_key_env: Annotated[
        str | None, typer.Option("--api-key-env", help="http: environment variable holding the API key.")
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="http: requests in flight [4].")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.1, help="http: seconds to wait for data [60].")
    ] = None,
    retries: Annotated[
        int | None, typer.Option("--retries", min=0, help="http: retries on 429, 5xx, broken streams [3].")
    ] = None,
    keep_partial: Annotated[
        bool, typer.Option("--keep-partial", help="pytest: keep what a failed run wrote instead of restoring.")
    ] = False,
    prune_superseded: Annotated[
        bool, typer.Option("--prune-superseded", help="Remove old recordings the run did not produce again.")
    ] = False,
    review: Annotated[bool, typer.Option("--review", help="Stage new recordings and review them per test.")] = False,
    pending: Annotated[bool, typer.Option("--pending", help="List staged recordings.")] = False,
    accept: Annotated[
        bool, typer.Option("--accept", help="Accept staged recordings (all, or of the given tests).")
    ] = False,
    reject: Annotated[
        bool, typer.Option("--reject", help="Reject staged recordings (all, or of the given tests).")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """Re-record selected recordings, through the project's tests or straight against a live endpoint.

    Select with references, the filters of `ls`, --stale, or --all. --dry-run shows the plan. The pytest runner
    backs up every recording of the selected tests and restores them if the run fails or is interrupted. The http
    runner writes a file only when its request fully succeeded. Exit 0 when all went well; 1 when a run or a
    request failed, or a selected test re-recorded nothing; 2 when nothing could start.
    """
    # The plan (pydantic) is imported here, not at start-up: `fixtures ls` must stay light.
    from llm_fixtures.rerecording import plan as planning

    code = 0
    with handle_errors():
        if sum((pending, accept, reject)) > 1:
            raise UsageError("--pending, --accept and --reject go one at a time")
        project = load_project()
        if pending or accept or reject:
            code = _act_on_pending(project, refs or [], pending=pending, accept=accept, json=json)
        else:
            filters = make_filters(test, endpoint, model, provider, kind, stream, errors)
            # Flags win over `[tool.fixtures.rerecord]`, which wins over the defaults.
            settings = project.settings.rerecord
            base_url = base_url or settings.base_url
            if base_url:
                _check_base_url(base_url)
            api_key_env = api_key_env or settings.api_key_env
            chosen = _select(refs or [], filters, stale, everything, project)
            if not chosen:
                warn("no recording matches the selection")
                return
            plan = planning.build_plan(chosen, runner.value, base_url, api_key_env)
            if dry_run:
                _show_plan(plan, json)
                return
            _warn_skipped(plan)
            if plan.to_do == 0:
                raise UsageError(f"none of the {len(plan.items)} selected recording(s) can be re-recorded this way")
            if runner is RunnerChoice.http:
                key = os.environ.get(api_key_env) if api_key_env else None
                code = _run_http(
                    project,
                    chosen,
                    plan,
                    base_url=base_url,
                    api_key_env=api_key_env,
                    key=key,
                    jobs=jobs if jobs is not None else settings.jobs,
                    timeout=timeout if timeout is not None else settings.timeout,
                    retries=retries if retries is not None else settings.retries,
                    review=review,
                    prune_superseded=prune_superseded,
                    json=json,
                )
            else:
                code = _run_pytest(
                    project,
                    plan,
                    keep_partial=keep_partial,
                    prune_superseded=prune_superseded,
                    review=review,
                    json=json,
                )
    if code:
        raise typer.Exit(code)


def _check_base_url(base_url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url {base_url!r} is not an http(s) URL such as http://localhost:8000/v1")


def _warn_skipped(plan: Plan) -> None:
    reasons: dict[str, int] = {}
    for item in plan.items:
        if item.action == "skip":
            reasons[item.reason or "?"] = reasons.get(item.reason or "?", 0) + 1
    for reason, count in sorted(reasons.items()):
        warn(f"skipped {count} recording(s): {reason}")


def _show_plan(plan: Plan, json: bool) -> None:
    if json:
        echo_json_lines(plan.items)
        return
    from llm_fixtures.render.rerecord import render_plan

    render_plan(plan)


def interactive() -> bool:
    """A person at a terminal can answer the review prompt."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _missing_keys(plan: Plan, api_key_env: str | None) -> str | None:
    """Why the run cannot start for want of an API key (checked before anything is sent), or None."""
    if api_key_env:
        if os.environ.get(api_key_env):
            return None
        return f"{api_key_env} is not set (named by --api-key-env); nothing was sent"
    needed: dict[str, int] = {}
    for item in plan.items:
        if item.action == "send" and item.key_env and not os.environ.get(item.key_env):
            needed[item.key_env] = needed.get(item.key_env, 0) + 1
    if not needed:
        return None
    names = ", ".join(f"{name} (for {count} request(s))" for name, count in sorted(needed.items()))
    return f"API key not set: {names}; set it, or name another variable with --api-key-env; nothing was sent"


def _run_http(
    project: Project,
    chosen: list[tuple[Facts, dict[str, Any]]],
    plan: Plan,
    *,
    base_url: str | None,
    api_key_env: str | None,
    key: str | None,
    jobs: int,
    timeout: float,
    retries: int,
    review: bool,
    prune_superseded: bool,
    json: bool,
) -> int:
    from llm_fixtures.render.rerecord import progress_bar, render_results
    from llm_fixtures.rerecording.calls import auth_headers, build_call
    from llm_fixtures.rerecording.httprunner import HttpJob, HttpOptions, run_http, write_in_place

    problem = _missing_keys(plan, api_key_env)
    if problem:
        raise UsageError(problem)
    root = project.root
    found = {facts.path: (facts, raw) for facts, raw in chosen}
    work: list[HttpJob] = []
    for item in plan.items:
        if item.action != "send":
            continue
        _facts, raw = found[item.path]
        call = build_call(raw.get("request"), base_url)
        secret = key if api_key_env else (os.environ.get(item.key_env) if item.key_env else None)
        work.append(HttpJob(root / item.path, item.path, raw, call, auth_headers(call.url, secret)))
    test_ids = {facts.path: facts.test_id for facts, _raw in chosen}
    staged: list[tuple[Path, bytes, str | None]] = []

    def stage_instead(job: HttpJob, data: bytes, name: str) -> Path:
        target = job.path.with_name(name)
        staged.append((target, data, test_ids.get(job.display)))
        return target

    sink = stage_instead if review else write_in_place
    done: list[Any] = []

    def progress(result: Any) -> None:
        done.append(result)
        advance()

    try:
        with progress_bar(len(work), "re-recording") as advance:
            results = run_http(work, HttpOptions(jobs=jobs, timeout=timeout, retries=retries), sink, progress)
    except KeyboardInterrupt:
        written = sum(result.status == "ok" for result in done)
        warn(f"interrupted: {written} recording(s) were re-recorded; every other file is as it was")
        return 130
    if not review:
        _classify(project, results, found)
    if json:
        echo_json_lines(results)
    else:
        render_results(results)
    renamed = [
        root / result.path
        for result in results
        if result.status == "ok" and result.written and Path(result.written).name != Path(result.path).name
    ]
    if review:
        _stage_and_review(project, staged, "http")
    elif renamed:
        _supersede(project, renamed, prune_superseded)
    return 1 if any(result.status == "failed" for result in results) else 0


def _classify(project: Project, results: list[Any], found: dict[str, tuple[Facts, dict[str, Any]]]) -> None:
    """The `fixtures diff` classes of each re-recorded file against what it held before (content, usage, ...)."""
    from llm_fixtures.comparing import volatility_of
    from llm_fixtures.rerecording.summary import change_classes
    from llm_fixtures.store import dump_upstream

    volatility = volatility_of(project)
    for result in results:
        if result.status == "ok" and result.changed and result.written:
            old = dump_upstream(found[result.path][1])
            result.changes = change_classes(old, Path(result.written).read_bytes(), result.path, volatility)


def _supersede(project: Project, paths: list[Path], prune: bool) -> list[str]:
    """Old recordings replaced under another name: listed, and removed reversibly with --prune-superseded."""
    shown = [str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path) for path in paths]
    if not prune:
        for path in shown:
            warn(f"superseded (kept; --prune-superseded removes it): {path}")
        return []
    from llm_fixtures.trashing import remove_reversibly

    remove_reversibly(paths, project.root)
    return shown


def _test_id_of(data: bytes) -> str | None:
    import orjson

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


def _run_pytest(
    project: Project, plan: Plan, *, keep_partial: bool, prune_superseded: bool, review: bool, json: bool
) -> int:
    import shlex

    from llm_fixtures.comparing import volatility_of
    from llm_fixtures.discovery import default_roots
    from llm_fixtures.render.rerecord import render_restored
    from llm_fixtures.rerecording import plan as planning
    from llm_fixtures.rerecording import pytestrunner as runner
    from llm_fixtures.rerecording.summary import classes_by_path, diff_run

    root = project.root
    tests = plan.tests
    argv, env = runner.build_command(project.settings.rerecord, runner.detect_preset(root), tests)
    every = load_catalog(None, project, base=root).facts
    recordings = sorted(
        set(planning.recordings_of_tests(every, tests, root))
        | {root / item.path for item in plan.items if item.action == "run"}
    )
    watched = runner.watched_folders(root, tests, recordings, default_roots(project))
    backup = runner.take_backup(root, recordings, watched)
    settings = " ".join(f"{name}={value}" for name, value in sorted(env.items()))
    warn(f"backed up {len(backup.copies)} recording(s) of {len(tests)} test(s)")
    warn(f"running: {settings} {shlex.join(argv)}")
    try:
        status, exit_code = runner.run_tests(argv, env, root, warn)
    except BaseException:
        runner.restore(backup, root)
        runner.discard(backup)
        raise
    if status != "passed" and not keep_partial:
        restored = runner.restore(backup, root)
        runner.discard(backup)
        render_restored(restored, "was interrupted" if status == "interrupted" else f"failed (exit {exit_code})")
        return 130 if status == "interrupted" else 1
    test_of = {root / f.path: f.test_id for f in every} | {root / i.path: i.test_id for i in plan.items}
    outcome = runner.compare(backup, root, test_of)
    reports = diff_run(backup, outcome, root, volatility_of(project))
    classes = classes_by_path(reports)
    if review and status == "passed":
        fresh = [(root / path, (root / path).read_bytes()) for path in [*outcome.changed, *outcome.new]]
        runner.restore(backup, root)
        runner.discard(backup)
        _show_outcome(outcome, classes, reports, [], json)
        _stage_and_review(project, [(path, data, _test_id_of(data)) for path, data in fresh], "pytest")
        return 0
    runner.discard(backup)
    pruned = (
        _supersede(project, [root / path for path in outcome.superseded], prune_superseded)
        if outcome.superseded and prune_superseded and status == "passed"
        else []
    )
    _show_outcome(outcome, classes, reports, pruned, json)
    if not pruned and outcome.superseded and json:
        warn(f"{len(outcome.superseded)} superseded recording(s) kept; --prune-superseded removes them")
    if outcome.not_rerecorded and json:
        warn(f"{len(outcome.not_rerecorded)} recording(s) not re-recorded: their tests wrote nothing (skipped?)")
    if status != "passed":
        warn(f"the run {status} (exit {exit_code}); what it wrote was kept (--keep-partial)")
        return 130 if status == "interrupted" else 1
    return 1 if outcome.not_rerecorded else 0


def _show_outcome(
    outcome: Any, classes: dict[str, list[str]], reports: list[Any], pruned: list[str], json: bool
) -> None:
    """Each file by what happened to it, then the `fixtures diff` of the run (noise folded)."""
    from llm_fixtures.rerecording.pytestrunner import outcome_lines

    if json:
        echo_json_lines(outcome_lines(outcome, classes))
        return
    from llm_fixtures.render.diff import render_human
    from llm_fixtures.render.rerecord import render_outcome

    render_outcome(outcome, classes, pruned)
    render_human(reports, "before the run", "after the run", show_all=False)


def _stage_and_review(project: Project, items: list[tuple[Path, bytes, str | None]], runner_name: str) -> None:
    from llm_fixtures.rerecording import review

    entries = review.stage(project.root, items, runner_name)
    if not entries:
        warn("nothing to stage")
        return
    if interactive():
        _review_interactively(project, entries)
    else:
        warn(
            f"{len(entries)} recording(s) staged for review; `fixtures rerecord --pending` lists them, "
            "`--accept` / `--reject` [TEST...] decides"
        )


def _classes_of(project: Project, entries: list[Any]) -> dict[str, list[str]]:
    from llm_fixtures.comparing import volatility_of
    from llm_fixtures.rerecording.review import staged_bytes
    from llm_fixtures.rerecording.summary import change_classes

    volatility = volatility_of(project)
    classes: dict[str, list[str]] = {}
    for entry in entries:
        old = project.root / entry.target
        if old.is_file():
            classes[entry.target] = change_classes(
                old.read_bytes(), staged_bytes(project.root, entry), entry.target, volatility
            )
    return classes


def _review_interactively(project: Project, entries: list[Any]) -> None:
    from llm_fixtures.render.rerecord import REVIEW_PROMPT, render_review_item
    from llm_fixtures.rerecording import review

    tests = review.by_test(entries)
    classes = _classes_of(project, entries)

    def ask(test: review.PendingTest, index: int, total: int) -> str:
        render_review_item(test, index, total, classes)
        answer: str = typer.prompt(REVIEW_PROMPT, default="s", show_default=False)
        return answer

    decisions = review.decide(tests, ask)
    accepted = [e for i, t in enumerate(tests) if decisions[i] == "accept" for e in t.entries]
    rejected = [e for i, t in enumerate(tests) if decisions[i] == "reject" for e in t.entries]
    review.accept(project.root, accepted)
    review.reject(project.root, rejected)
    left = len(entries) - len(accepted) - len(rejected)
    warn(f"accepted {len(accepted)}, rejected {len(rejected)}, {left} still pending")


def _act_on_pending(project: Project, refs: list[str], *, pending: bool, accept: bool, json: bool) -> int:
    from llm_fixtures.rerecording import review

    entries = review.matching(review.load_pending(project.root), refs)
    if pending:
        if json:
            echo_json_lines(entries)
        elif not entries:
            warn("nothing pending")
        else:
            from llm_fixtures.render.rerecord import render_pending

            render_pending(entries)
        return 0
    if not entries:
        warn("nothing pending" + (" for " + ", ".join(refs) if refs else ""))
        return 0
    if accept:
        written = review.accept(project.root, entries)
        warn(f"accepted {len(written)} recording(s)")
    else:
        count = review.reject(project.root, entries)
        warn(f"rejected {count} recording(s); the old files were never touched")
    return 0
