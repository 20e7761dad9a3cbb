"""A re-record over http from start to end: refuse before sending anything when an API key is missing, send the
selected requests (rerecording/httprunner.py), then classify, report, and either stage the answers for review or
name (or prune) the files they superseded."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llm_fixtures.config import Project
from llm_fixtures.errors import UsageError
from llm_fixtures.humanizing import plural
from llm_fixtures.rerecording.calls import auth_headers, build_call
from llm_fixtures.rerecording.httprunner import FileResult, HttpJob, HttpOptions, run_http, write_in_place
from llm_fixtures.rerecording.plan import Plan
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.rerecording.reviewflow import stage_and_review
from llm_fixtures.rerecording.selection import Chosen
from llm_fixtures.rerecording.superseded import supersede


def missing_keys(plan: Plan, api_key_env: str | None, environ: Mapping[str, str]) -> str | None:
    """Why the run cannot start for want of an API key (checked before anything is sent), or None."""
    if api_key_env:
        if environ.get(api_key_env):
            return None
        return f"{api_key_env} is not set (named by --api-key-env); nothing was sent"
    needed: dict[str, int] = {}
    for item in plan.items:
        if item.action == "send" and item.key_env and not environ.get(item.key_env):
            needed[item.key_env] = needed.get(item.key_env, 0) + 1
    if not needed:
        return None
    names = ", ".join(f"{name} (for {plural(count, 'request')})" for name, count in sorted(needed.items()))
    return f"API key not set: {names}; set it, or name another variable with --api-key-env; nothing was sent"


def rerecord_over_http(
    project: Project,
    chosen: list[Chosen],
    plan: Plan,
    *,
    base_url: str | None,
    api_key_env: str | None,
    options: HttpOptions,
    review: bool,
    prune_superseded: bool,
    reporter: Reporter,
) -> int:
    """Send every planned request; the exit code (0 all went well, 1 a request failed, 130 interrupted)."""
    problem = missing_keys(plan, api_key_env, os.environ)
    if problem:
        raise UsageError(problem)
    key = os.environ.get(api_key_env) if api_key_env else None
    root = project.root
    found = {facts.path: (facts, raw) for facts, raw in chosen}
    work: list[HttpJob] = []
    for item in plan.items:
        if item.action != "send" or item.path is None:  # a test without recordings is never sent
            continue
        _facts, raw = found[item.path]
        call = build_call(raw.get("request"), base_url)
        secret = key if api_key_env else (os.environ.get(item.key_env) if item.key_env else None)
        work.append(HttpJob(root / item.path, item.path, raw, call, auth_headers(call.url, secret, call.dialect)))
    test_ids = {facts.path: facts.test_id for facts, _raw in chosen}
    staged: list[tuple[Path, bytes, str | None]] = []

    def stage_instead(job: HttpJob, data: bytes, name: str) -> Path:
        target = job.path.with_name(name)
        staged.append((target, data, test_ids.get(job.display)))
        return target

    sink = stage_instead if review else write_in_place
    done: list[FileResult] = []

    try:
        with reporter.progress(len(work), "re-recording") as advance:

            def progress(result: FileResult) -> None:
                done.append(result)
                advance()

            results = run_http(work, options, sink, progress)
    except KeyboardInterrupt:
        written = sum(result.status == "ok" for result in done)
        reporter.warn(f"interrupted: {plural(written, 'recording')} were re-recorded; every other file is as it was")
        return 130
    if not review:
        _classify(project, results, {path: raw for path, (_facts, raw) in found.items()})
    if reporter.as_json:
        reporter.lines(results)
    else:
        reporter.results(results)
    renamed = [
        root / result.path
        for result in results
        if result.status == "ok" and result.written and Path(result.written).name != Path(result.path).name
    ]
    if review:
        stage_and_review(project, staged, "http", reporter)
    elif renamed:
        supersede(project, renamed, prune_superseded, reporter.warn)
    return 1 if any(result.status == "failed" for result in results) else 0


def _classify(project: Project, results: list[FileResult], old: dict[str, dict[str, Any]]) -> None:
    # Imported here: the diff machinery is only needed once something was re-recorded.
    from llm_fixtures.diffing.sides import volatility_of
    from llm_fixtures.rerecording.summary import classify_results

    classify_results(results, old, volatility_of(project))
