"""Human output of `fixtures rerecord`: the plan, the progress bar, the result per file, the run summary and
the review screens."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from llm_fixtures.escaping import one_line
from llm_fixtures.humanizing import plural
from llm_fixtures.render.console import stderr_console, stdout_console
from llm_fixtures.rerecording.backup import Restored
from llm_fixtures.rerecording.httprunner import FileResult
from llm_fixtures.rerecording.leftovers import Recovered
from llm_fixtures.rerecording.outcome import Outcome
from llm_fixtures.rerecording.plan import Plan, PlanItem
from llm_fixtures.rerecording.review import PendingEntry, PendingTest


def _line(value: object) -> str:
    """A path, test id or command from the run, kept on one line (`one_line`)."""
    return one_line(str(value))


def _count(value: int | None) -> str:
    """A token count, or `-` when the recordings do not say (never a 0 that was not stored)."""
    return "-" if value is None else f"{value:,}"


def _tokens(plan: Plan) -> str:
    if not plan.usage_known:
        return "no stored token usage"
    usage = plan.usage
    count = plan.recordings_to_do
    note = "" if plan.usage_known == count else f" (known for {plan.usage_known} of {count})"
    return (
        f"{_count(usage.total_tokens)} tokens last time: {_count(usage.prompt_tokens)} prompt + "
        f"{_count(usage.completion_tokens)} completion{note}"
    )


def _total(items: Sequence[PlanItem]) -> str:
    """The tokens of some recordings: `-` when none says, `N+` when only some do."""
    known = [item.usage.total_tokens for item in items if item.usage and item.usage.total_tokens is not None]
    if not known:
        return "-"
    return f"{sum(known):,}" + ("" if len(known) == len(items) else "+")


def _render_runs(plan: Plan) -> None:
    """Each run: why it is set up so, its command as a line to copy, and per test the recordings it covers."""
    console = stdout_console()
    for line in plan.how:
        console.print(Text(line), soft_wrap=True)
    for number, run in enumerate(plan.runs, 1):
        items = [item for item in plan.items if item.run == number]
        heading = f"\nrun {number} of {len(plan.runs)}" + (f": setup {_line(run.setup)}" if run.setup else "")
        if run.suites:
            heading += f" (suite {', '.join(run.suites)})"
        console.print(Text(heading, style="bold"), soft_wrap=True)
        for why in run.why:
            console.print(Text(f"  {_line(why)}"), soft_wrap=True)
        console.print(Text(f"  $ {_line(run.shell)}"), soft_wrap=True)
        for test in run.tests:
            covered = [item for item in items if item.test_id == test and item.path is not None]
            if not covered:
                console.print(Text(f"  {_line(test)}  (no recording yet: the run records it)"), soft_wrap=True)
                continue
            console.print(
                Text(f"  {_line(test)}  ({plural(len(covered), 'recording')}, {_total(covered)} tokens)"),
                soft_wrap=True,
            )
            for item in covered:
                console.print(Text(f"      {_line(item.path)}"), soft_wrap=True)
    new = f" and {plural(plan.new_tests, 'test')} not recorded yet" if plan.new_tests else ""
    console.print(
        Text(
            f"\n{plural(len(plan.tests), 'test')} in {plural(len(plan.runs), 'run')} in record mode, covering "
            f"{plural(plan.recordings_to_do, 'recording')}{new}; {_tokens(plan)}"
        ),
        soft_wrap=True,
    )


def render_plan(plan: Plan) -> None:
    """The dry-run plan: the runs with their commands and tests (pytest) or the requests to send (http), skipped
    recordings with the reason."""
    console = stdout_console()
    if plan.runner == "pytest":
        _render_runs(plan)
    else:
        table = Table("recording", "request", "key", "tokens", box=None, pad_edge=False)
        for item in plan.items:
            if item.action == "send":
                table.add_row(
                    Text(item.label), Text(f"{item.method} {item.url}"), Text(item.key_env or "-"), _total([item])
                )
        console.print(table)
        console.print(Text(f"{plural(plan.to_do, 'request')} to send; {_tokens(plan)}"))
    skipped = [item for item in plan.items if item.action == "skip"]
    if skipped:
        err = stderr_console()
        tests = sum(item.path is None for item in skipped)
        what = f"{plural(len(skipped) - tests, 'selected recording')}" if tests < len(skipped) else ""
        what += (" and " if what and tests else "") + (f"{plural(tests, 'test')} without recordings" if tests else "")
        err.print(Text(f"{what} skipped:"), soft_wrap=True)
        for item in skipped:
            err.print(Text(f"  {item.label}: {item.reason}"), soft_wrap=True)


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr when it is a terminal; otherwise nothing. Yields the function that advances it."""
    if not sys.stderr.isatty() or total == 0:
        yield lambda: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=stderr_console(), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


def render_results(results: Sequence[FileResult]) -> None:
    """One line per file: `ok` (changed or not, and where it was written when that differs) or `failed: why`."""
    console = stdout_console()
    for result in results:
        if result.status == "ok":
            note = "unchanged" if not result.changed else f"changed: {', '.join(result.changes) or 'bytes'}"
            written = (
                f" -> {_line(result.written)}" if result.written and not result.written.endswith(result.path) else ""
            )
            console.print(Text(f"ok      {_line(result.path)} ({note}){written}"), soft_wrap=True)
        else:
            console.print(Text(f"{result.status:<7} {_line(result.path)}: {_line(result.reason)}"), soft_wrap=True)
    ok = sum(result.status == "ok" for result in results)
    failed = sum(result.status == "failed" for result in results)
    stderr_console().print(Text(f"{ok} re-recorded, {failed} failed (failed files were left as they were)"))


def render_outcome(outcome: Outcome, classes: dict[str, list[str]], pruned: Sequence[str]) -> None:
    """After a record run: what changed (with the diff classes), what is new, what the run did not produce."""
    console = stdout_console()
    for label, paths in (
        ("changed", outcome.changed),
        ("same", outcome.unchanged),
        ("new", outcome.new),
        ("superseded", outcome.superseded),
        ("not re-recorded", outcome.not_rerecorded),
        ("deleted", outcome.deleted),
        ("outside", outcome.outside),
    ):
        for path in paths:
            extra = f" [{', '.join(classes[path])}]" if path in classes else ""
            console.print(Text(f"{label:<15} {_line(path)}{extra}"), soft_wrap=True)
    err = stderr_console()
    err.print(
        Text(
            f"{len(outcome.changed)} changed, {len(outcome.unchanged)} written again unchanged, "
            f"{len(outcome.new)} new, {len(outcome.superseded)} superseded"
        )
    )
    if outcome.superseded and not pruned:
        err.print(Text("superseded recordings were kept; --prune-superseded removes them (reversibly)"))
    if pruned:
        err.print(
            Text(f"removed {plural(len(pruned), 'superseded recording')}; `fixtures prune --restore` brings them back")
        )
    if outcome.not_rerecorded:
        err.print(
            Text(
                f"warning: {plural(len(outcome.not_rerecorded), 'recording')} not re-recorded: their tests wrote "
                "nothing (skipped? deselected? missing API keys?); they were kept as they were"
            )
        )
    if outcome.outside:
        err.print(Text("warning: the run also changed recordings of tests that were not selected ('outside')"))


def render_restored(restored: Restored, status: str) -> None:
    """After a failed or interrupted run: what was put back, and what was left to another process."""
    err = stderr_console()
    kept = f"; left {plural(len(restored.kept), 'file')} another process wrote meanwhile" if restored.kept else ""
    err.print(
        Text(
            f"the run {status}: restored {plural(len(restored.restored), 'recording')} and moved "
            f"{plural(len(restored.new), 'new file')} to the trash; the recordings are as they were{kept}"
        ),
        soft_wrap=True,
    )
    for path in restored.kept:
        err.print(Text(f"kept (written by another process during the run): {_line(path)}"), soft_wrap=True)
    for path in restored.not_restorable:
        err.print(
            Text(f"warning: {_line(path)} was changed during the run and was not backed up; not restored"),
            soft_wrap=True,
        )
    if restored.new or restored.replaced:
        err.print(Text("what the run wrote is in the trash; `fixtures prune --restore` brings the new files back"))


def render_recovered(recovered: Sequence[Recovered]) -> None:
    """`--restore`: each file put back, and each new file moved to the trash, on stdout; per backup, a summary on
    stderr."""
    console, err = stdout_console(), stderr_console()
    for item in recovered:
        for label, paths in (("restored", item.restored), ("trashed", item.new)):
            for path in paths:
                console.print(Text(f"{label:<9} {_line(path)}"), soft_wrap=True)
        if item.status == "incomplete":
            err.print(Text(f"{_line(item.backup)}: removed; it was never completed, so its run never started"))
            continue
        kept = f" (the run's version of {len(item.replaced)} is in the trash)" if item.replaced else ""
        err.print(
            Text(
                f"{_line(item.backup)}, of a rerecord started {item.created} that did not finish: restored "
                f"{len(item.restored)} of {plural(item.backed_up, 'backed-up recording')}{kept}, moved "
                f"{plural(len(item.new), 'new file')} it made to the trash; the recordings are as they were before it"
            )
        )
        for path in item.kept:
            err.print(Text(f"kept (written by another process during the run): {_line(path)}"), soft_wrap=True)
        for path in item.not_restorable:
            err.print(Text(f"warning: {_line(path)} was changed during the run and was not backed up; not restored"))
    if any(item.new for item in recovered):
        err.print(Text("`fixtures prune --restore` brings the new files back"))


def render_pending(entries: Sequence[PendingEntry]) -> None:
    console = stdout_console()
    table = Table("test", "recording", "kind", "bytes", box=None, pad_edge=False)
    for entry in entries:
        table.add_row(
            Text(_line(entry.test_id or "(no test id)")), Text(_line(entry.target)), entry.kind, f"{entry.bytes:,}"
        )
    console.print(table)
    stderr_console().print(Text(f"{len(entries)} pending; fixtures rerecord --accept / --reject [TEST...]"))


def render_review_item(test: PendingTest, index: int, total: int, classes: dict[str, list[str]]) -> None:
    console = stdout_console()
    console.print(Text(f"\n[{index + 1}/{total}] {_line(test.test_id or '(no test id)')}", style="bold"))
    for entry in test.entries:
        extra = f" [{', '.join(classes.get(entry.target, []))}]" if entry.target in classes else ""
        console.print(Text(f"  {entry.kind:<8} {entry.target}{extra}"))


REVIEW_PROMPT = "a accept · r reject · s skip · A accept all · R reject all · S skip all"
