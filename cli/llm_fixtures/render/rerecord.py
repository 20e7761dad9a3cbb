"""Human output of `fixtures rerecord`: the plan, the progress bar, the result per file, the run summary and
the review screens."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from llm_fixtures.render.console import stderr_console, stdout_console
from llm_fixtures.rerecording.backup import Restored
from llm_fixtures.rerecording.httprunner import FileResult
from llm_fixtures.rerecording.leftovers import Recovered
from llm_fixtures.rerecording.outcome import Outcome
from llm_fixtures.rerecording.plan import Plan
from llm_fixtures.rerecording.review import PendingEntry, PendingTest


def _tokens(plan: Plan) -> str:
    if not plan.usage_known:
        return "no stored token usage"
    usage = plan.usage
    note = "" if plan.usage_known == plan.to_do else f" (known for {plan.usage_known} of {plan.to_do})"
    return (
        f"{usage.total_tokens:,} tokens last time: {usage.prompt_tokens:,} prompt + "
        f"{usage.completion_tokens:,} completion{note}"
    )


def render_plan(plan: Plan) -> None:
    """The dry-run plan: tests to run (pytest) or requests to send (http), skipped ones with the reason."""
    console = stdout_console()
    if plan.runner == "pytest":
        table = Table("test", "recordings", "tokens", box=None, pad_edge=False)
        for test in plan.tests:
            items = [item for item in plan.items if item.test_id == test and item.action == "run"]
            tokens = sum(item.usage.total_tokens for item in items if item.usage)
            table.add_row(Text(test), str(len(items)), f"{tokens:,}")
        console.print(table)
        console.print(
            Text(
                f"{len(plan.tests)} test(s) to run in record mode, covering {plan.to_do} recording(s); {_tokens(plan)}"
            )
        )
    else:
        table = Table("recording", "request", "key", "tokens", box=None, pad_edge=False)
        for item in plan.items:
            if item.action == "send":
                used = f"{item.usage.total_tokens:,}" if item.usage else "-"
                table.add_row(Text(item.path), Text(f"{item.method} {item.url}"), Text(item.key_env or "-"), used)
        console.print(table)
        console.print(Text(f"{plan.to_do} request(s) to send; {_tokens(plan)}"))
    skipped = [item for item in plan.items if item.action == "skip"]
    if skipped:
        err = stderr_console()
        err.print(Text(f"{len(skipped)} selected recording(s) skipped:"))
        for item in skipped:
            err.print(Text(f"  {item.path}: {item.reason}"))


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
            written = f" -> {result.written}" if result.written and not result.written.endswith(result.path) else ""
            console.print(Text(f"ok      {result.path} ({note}){written}"), soft_wrap=True)
        else:
            console.print(Text(f"{result.status:<7} {result.path}: {result.reason}"), soft_wrap=True)
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
            console.print(Text(f"{label:<15} {path}{extra}"), soft_wrap=True)
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
        err.print(Text(f"removed {len(pruned)} superseded recording(s); `fixtures prune --restore` brings them back"))
    if outcome.not_rerecorded:
        err.print(
            Text(
                f"warning: {len(outcome.not_rerecorded)} recording(s) not re-recorded: their tests wrote nothing "
                "(skipped? deselected? missing API keys?); they were kept as they were"
            )
        )
    if outcome.outside:
        err.print(Text("warning: the run also changed recordings of tests that were not selected ('outside')"))


def render_restored(restored: Restored, status: str, backup_kept: str | None = None) -> None:
    err = stderr_console()
    err.print(
        Text(
            f"the run {status}: restored {len(restored.restored)} recording(s) and removed "
            f"{len(restored.removed)} new file(s); the recordings are as they were"
        )
    )
    for path in restored.not_restorable:
        err.print(Text(f"warning: {path} was changed by the run but belongs to no selected test; not restored"))
    if backup_kept:
        err.print(Text(f"backup kept in {backup_kept}"))


def render_recovered(recovered: Sequence[Recovered]) -> None:
    """`--restore`: each file put back, and each new file moved to the trash, on stdout; per backup, a summary on
    stderr."""
    console, err = stdout_console(), stderr_console()
    for item in recovered:
        for label, paths in (("restored", item.restored), ("trashed", item.new)):
            for path in paths:
                console.print(Text(f"{label:<9} {path}"), soft_wrap=True)
        if item.status == "incomplete":
            err.print(Text(f"{item.backup}: removed; it was never completed, so its run never started"))
            continue
        kept = f" (the run's version of {len(item.replaced)} is in the trash)" if item.replaced else ""
        err.print(
            Text(
                f"{item.backup}, of a rerecord started {item.created} that did not finish: restored "
                f"{len(item.restored)} of {item.backed_up} backed-up recording(s){kept}, moved {len(item.new)} new "
                "file(s) it made to the trash; the recordings are as they were before it"
            )
        )
        for path in item.not_restorable:
            err.print(Text(f"warning: {path} was changed by the run but belongs to no selected test; not restored"))
    if any(item.new for item in recovered):
        err.print(Text("`fixtures prune --restore` brings the new files back"))


def render_pending(entries: Sequence[PendingEntry]) -> None:
    console = stdout_console()
    table = Table("test", "recording", "kind", "bytes", box=None, pad_edge=False)
    for entry in entries:
        table.add_row(Text(entry.test_id or "(no test id)"), Text(entry.target), entry.kind, f"{entry.bytes:,}")
    console.print(table)
    stderr_console().print(Text(f"{len(entries)} pending; fixtures rerecord --accept / --reject [TEST...]"))


def render_review_item(test: PendingTest, index: int, total: int, classes: dict[str, list[str]]) -> None:
    console = stdout_console()
    console.print(Text(f"\n[{index + 1}/{total}] {test.test_id or '(no test id)'}", style="bold"))
    for entry in test.entries:
        extra = f" [{', '.join(classes.get(entry.target, []))}]" if entry.target in classes else ""
        console.print(Text(f"  {entry.kind:<8} {entry.target}{extra}"))


REVIEW_PROMPT = "a accept · r reject · s skip · A accept all · R reject all · S skip all"
