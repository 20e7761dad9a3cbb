"""`fixtures rerecord`: re-record selected fixtures through the test suite (pytest) or against a live endpoint
(http), losing nothing: backups, atomic writes, and an optional review before anything replaces a file. This module
reads the command line; the flows are in llm_fixtures/rerecording (session.py, pytestflow.py, httpflow.py,
reviewflow.py) and talk to the terminal through commands/rerecord_terminal.py."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from llm_fixtures.commands.common import (
    EndpointOpt,
    ErrorsOpt,
    JsonOpt,
    KindOpt,
    ModelOpt,
    ProviderOpt,
    StreamOpt,
    TestOpt,
    handle_errors,
    make_filters,
)
from llm_fixtures.config import load_project
from llm_fixtures.errors import UsageError

if TYPE_CHECKING:
    from llm_fixtures.commands.rerecord_terminal import Terminal


# Seconds for one attempt at a request, answer included (a reasoning model's long stream fits).
DEFAULT_DEADLINE = 600.0


class RunnerChoice(StrEnum):
    pytest = "pytest"
    http = "http"


RefsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Recordings: paths, hash prefixes (6+ hex digits) or pytest node ids.", show_default=False),
]


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
    deadline: Annotated[
        float | None,
        typer.Option("--deadline", min=0.1, help="http: seconds for one whole request and its answer [600]."),
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
    restore: Annotated[
        bool,
        typer.Option("--restore", help="Put back the recordings of a pytest run that did not finish (killed)."),
    ] = False,
    from_log: Annotated[
        str | None,
        typer.Option(
            "--from-log", help="Also select the tests that missed a recording in this pytest log (- for stdin)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-record selected recordings, through the project's tests or straight against a live endpoint.

    Select with references, the filters of `ls`, --stale, or --all. --dry-run shows the plan. The pytest runner
    backs up every recording of the selected tests and restores them if the run fails or is interrupted; if
    `fixtures` itself was killed, --restore puts them back (and no new run starts until then). The http runner
    writes a file only when its request fully succeeded. Exit 0 when all went well; 1 when a run or a request
    failed, or a selected test re-recorded nothing; 2 when nothing could start.
    """
    # The flows (pydantic, rich) are imported here, not at start-up: `fixtures ls` must stay light.
    from llm_fixtures.rerecording.reviewflow import act_on_pending
    from llm_fixtures.rerecording.session import Request, rerecord

    code = 0
    with handle_errors():
        if sum((pending, accept, reject, restore)) > 1:
            raise UsageError("--pending, --accept, --reject and --restore go one at a time")
        project = load_project()
        if restore:
            from llm_fixtures.rerecording.leftovers import recover

            code = recover(project.root, _terminal(as_json))
        elif pending or accept or reject:
            code = act_on_pending(project, refs or [], pending=pending, accept=accept, reporter=_terminal(as_json))
        else:
            if from_log is not None:
                from llm_fixtures.commands.explain import select_from_log

                refs = [*(refs or []), *select_from_log(from_log)]
            filters = make_filters(test, endpoint, model, provider, kind, stream, errors)
            # Flags win over `[tool.fixtures.rerecord]`, which wins over the defaults.
            settings = project.settings.rerecord
            base_url = base_url or settings.base_url
            if base_url:
                _check_base_url(base_url)
            request = Request(
                refs=refs or [],
                filters=filters,
                stale=stale,
                everything=everything,
                runner=runner.value,
                dry_run=dry_run,
                base_url=base_url,
                api_key_env=api_key_env or settings.api_key_env,
                jobs=jobs if jobs is not None else settings.jobs,
                timeout=timeout if timeout is not None else settings.timeout,
                deadline=deadline if deadline is not None else DEFAULT_DEADLINE,
                retries=retries if retries is not None else settings.retries,
                keep_partial=keep_partial,
                prune_superseded=prune_superseded,
                review=review,
            )
            code = rerecord(project, request, _terminal(as_json))
    if code:
        raise typer.Exit(code)


def _check_base_url(base_url: str) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url {base_url!r} is not an http(s) URL such as http://localhost:8000/v1")


def interactive() -> bool:
    """A person at a terminal can answer the review prompt."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def _terminal(as_json: bool) -> Terminal:
    from llm_fixtures.commands.rerecord_terminal import Terminal

    return Terminal(as_json=as_json, interactive=interactive())
