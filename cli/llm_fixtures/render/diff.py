"""Rendering a diff of recordings: a human summary with word diffs, and a Markdown pull-request comment."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from rich.text import Text

from llm_fixtures.assembling.merging import repair_surrogates
from llm_fixtures.diffing.report import CLASSES, NO_TEST, FieldChange, PairReport, TextChange, summarize
from llm_fixtures.escaping import one_line
from llm_fixtures.humanizing import plural
from llm_fixtures.render.console import stdout_console, write_text
from llm_fixtures.render.recorded import RecordedText

# GitHub refuses comments over 65,536 characters; leave room for a header a workflow may add.
MARKDOWN_LIMIT = 60_000
VALUE_WIDTH = 80


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    text = _json(value)
    return text if len(text) <= width else text[: width - 1] + "…"


# Characters kept on each side of the span that differs when two values are shortened.
CONTEXT = 12


def _short_pair(old: Any, new: Any, width: int = VALUE_WIDTH) -> tuple[str, str]:
    """Two values as JSON, each shortened to about `width` around the span where they differ, never across it:
    `…_embeddings[llama_stack_client-emb…` → `…_embeddings[ogx_client-emb…`."""
    a, b = _json(old), _json(new)
    if len(a) <= width and len(b) <= width:
        return a, b
    prefix = 0
    limit = min(len(a), len(b))
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    start = max(0, prefix - CONTEXT)
    return _window(a, start, len(a) - suffix, width), _window(b, start, len(b) - suffix, width)


def _window(text: str, start: int, end: int, width: int) -> str:
    """`text[start:]` from a little before the differing span `[start+CONTEXT, end)` to a little after it, cut at
    `width` after the span's start when the span itself is longer; `…` where something was left out."""
    stop = min(len(text), max(end + CONTEXT, start + width))
    stop = min(stop, start + max(width, 2 * CONTEXT))
    shown = text[start:stop]
    return ("…" if start else "") + shown + ("…" if stop < len(text) else "")


def _field_line(change: FieldChange) -> str:
    if change.old is None and change.new is not None:
        return f"{change.path}: added {_short(change.new)}"
    if change.new is None and change.old is not None:
        return f"{change.path}: removed {_short(change.old)}"
    old, new = _short_pair(change.old, change.new)
    return f"{change.path}: {old} → {new}"


def _pair_line(change: FieldChange) -> str:
    old, new = _short_pair(change.old, change.new)
    return f"{old} → {new}"


def _safe(text: str) -> str:
    """Recorded text as a terminal can take it: a lone surrogate (never valid UTF-8) becomes U+FFFD."""
    return text if text.isascii() else repair_surrogates(text)


def word_diff_text(change: TextChange) -> Text:
    """A word diff with `[-removed-]` and `{+added+}` markers (kept without colour) and red/green styles."""
    text = RecordedText()
    for op, words in change.ops:
        if op == "-":
            text.append(f"[-{_safe(words)}-]", style="red")
        elif op == "+":
            text.append(f"{{+{_safe(words)}+}}", style="green")
        else:
            text.append(_safe(words), style="dim" if " … " in words else "")
    return text


def _label(report: PairReport) -> str:
    # Paired by path, the two differ only by the folder or revision they come from: one is enough.
    if (
        report.old
        and report.new
        and report.old != report.new
        and (report.paired_by != "path" or report.old.rsplit("/", 1)[-1] != report.new.rsplit("/", 1)[-1])
    ):
        return f"{report.old} → {report.new}"
    return report.new or report.old or "?"


def _short_label(report: PairReport) -> str:
    old = (report.old or "").rsplit("/", 1)[-1]
    new = (report.new or "").rsplit("/", 1)[-1]
    if old and new and old != new:
        return f"{old} → {new}"
    return new or old


def _detail_lines(report: PairReport) -> list[tuple[str, Text | str]]:
    """(label, line) of every detail of a pair, in class order."""
    details = report.details
    lines: list[tuple[str, Text | str]] = []
    if details.problem:
        lines.append(("problem", details.problem))
    if details.moved is not None:
        lines.append(("moved", _pair_line(details.moved)))
    if details.name is not None:
        name = details.name
        renamed = f"{name.old} → {name.new}" if name.old != name.new else str(name.new)
        lines.append(("name", f"{renamed}: replay looks for {name.expected or 'another name'} ({name.status})"))
    for label in ("type", "streaming", "endpoint", "url", "model", "finish_reason"):
        change = getattr(details, label)
        if change is not None:
            lines.append((label, _pair_line(change)))
    if details.content is not None:
        lines.append(("content", word_diff_text(details.content)))
    lines.extend(("content", _field_line(change)) for change in details.content_fields)
    if details.refusal is not None:
        lines.append(("refusal", word_diff_text(details.refusal)))
    if details.reasoning is not None:
        lines.append(("reasoning", word_diff_text(details.reasoning)))
    for call in details.tool_calls:
        call_name = call.new_name or call.old_name
        head = (
            f"#{call.index} {call_name}"
            if call.old_name == call.new_name
            else f"#{call.index} {call.old_name} → {call.new_name}"
        )
        if call.old_name is None:
            head = f"#{call.index} added {call.new_name}"
        elif call.new_name is None:
            head = f"#{call.index} removed {call.old_name}"
        lines.append(("tool call", head))
        lines.extend(("  arguments", _field_line(change)) for change in call.arguments)
        if call.arguments_text is not None:
            lines.append(("  arguments", word_diff_text(call.arguments_text)))
    lines.extend(("request", _field_line(change)) for change in details.request)
    lines.extend(("usage", _field_line(change)) for change in details.usage)
    lines.extend(("models", _field_line(change)) for change in details.models)
    lines.extend(("metadata", _field_line(change)) for change in details.metadata)
    lines.extend(("error", _field_line(change)) for change in details.error)
    if details.chunking is not None:
        lines.append(("chunking", f"{details.chunking.old} → {details.chunking.new} chunks"))
    if details.volatile:
        lines.append(("volatile", ", ".join(details.volatile)))
    if details.truncated:
        lines.append(("note", f"{details.truncated} more field changes not shown"))
    lines.extend(("warning", warning) for warning in details.warnings)
    return lines


def render_human(reports: Sequence[PairReport], old_label: str, new_label: str, *, show_all: bool) -> None:
    """Counts per class and per test, then each meaningful pair with its details; noise folded."""
    console = stdout_console()
    # Long test ids and word diffs stay on one line each: the terminal wraps them, and a pipe keeps them whole.
    console.soft_wrap = True
    summary = summarize(reports)
    console.print(RecordedText(_safe(one_line(f"{old_label} → {new_label}: {len(reports)} pairs")), style="bold"))
    console.print(RecordedText(f"  {summary.bucket_line() or 'nothing to compare'}"))
    if summary.classes:
        console.print(RecordedText("By class:", style="bold"))
        for name in CLASSES:
            if summary.classes[name]:
                console.print(RecordedText(f"  {name:<14} {summary.classes[name]}"))
    if summary.per_test:
        console.print(RecordedText("By test:", style="bold"))
        for test_id in sorted(summary.per_test):
            meaningful = summary.classes_per_test.get(test_id, [])
            counts = f"  {one_line(test_id)}: {summary.bucket_line(summary.per_test[test_id])}"
            console.print(RecordedText(_safe(counts) + (f" [{', '.join(meaningful)}]" if meaningful else "")))
    folded: dict[str, list[PairReport]] = defaultdict(list)
    for report in reports:
        bucket = report.bucket
        if bucket == "unchanged":
            continue
        if bucket in ("volatile only", "chunking only", "moved") and not show_all:
            folded[bucket].append(report)
            continue
        console.print()
        head = RecordedText(f"{report.status:<8} ", style="bold yellow" if report.meaningful else "bold")
        head.append(_safe(one_line(_label(report))), style="bold")
        if report.changes:
            head.append(f"  [{', '.join(report.changes)}]")
        if report.paired_by in ("test", "parameters"):
            head.append(f"  (paired by {report.paired_by})", style="dim")
        console.print(head)
        if report.test_id:
            console.print(RecordedText(f"  test: {_safe(one_line(report.test_id))}", style="dim"))
        for label, line in _detail_lines(report):
            row = RecordedText(f"  {label}: ", style="cyan")
            row.append(line if isinstance(line, Text) else RecordedText(_safe(one_line(line))))
            console.print(row)
    if folded:
        console.print()
        for bucket in ("moved", "chunking only", "volatile only"):
            if folded[bucket]:
                what = "moved, the same recording elsewhere" if bucket == "moved" else bucket
                console.print(
                    RecordedText(f"{len(folded[bucket])} pairs {what} (folded; --show-all lists them)", style="dim")
                )


# ---------------------------------------------------------------------------------------------- markdown


def _md_code(value: str) -> str:
    """A value (a test id, a path, a field change) as an inline code span that nothing in it can end or escape: a
    fence longer than its longest run of backticks (then padded with a space, which Markdown strips, so that a
    backtick at either end stays inside), on one line. Markdown and HTML inside it are shown, not rendered."""
    value = one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    if not longest:
        return f"`{value}`"
    fence = "`" * (longest + 1)
    return f"{fence} {value} {fence}"


def _md_cell(value: str) -> str:
    """Text for a table cell: every `|` escaped (GitHub reads `\\|` as a pipe inside the cell, code spans
    included), on one line."""
    return one_line(value).replace("|", "\\|")


def _md_html(value: str) -> str:
    """Text inside an HTML element (`<summary>`), where Markdown is not read: escaped as HTML, on one line."""
    return html.escape(one_line(value), quote=False)


def _md_details(report: PairReport) -> str:
    lines: list[str] = []
    for label, line in _detail_lines(report):
        plain = line.plain if isinstance(line, Text) else line
        if label in ("content", "refusal", "reasoning", "  arguments") and isinstance(line, Text):
            block = _diff_block(report, label.strip())
            # A fence longer than any run of backticks in the text, so recorded Markdown cannot close it.
            runs = [len(run) for text in block for run in re.findall(r"`+", text)]
            fence = "`" * max(3, max(runs, default=0) + 1)
            lines.extend([f"{label.strip()}:", f"{fence}diff", *block, fence])
        else:
            lines.append(f"- {label.strip()}: {_md_code(plain)}")
    return "\n".join(lines)


def _diff_block(report: PairReport, label: str) -> list[str]:
    change: TextChange | None = None
    if label == "content":
        change = report.details.content
    elif label == "reasoning":
        change = report.details.reasoning
    elif label == "refusal":
        change = report.details.refusal
    else:
        change = next((c.arguments_text for c in report.details.tool_calls if c.arguments_text), None)
    if change is None:
        return []
    old = "".join(words for op, words in change.ops if op != "+")
    new = "".join(words for op, words in change.ops if op != "-")
    return [*(f"- {line}" for line in old.splitlines() or [""]), *(f"+ {line}" for line in new.splitlines() or [""])]


def render_markdown(reports: Sequence[PairReport], old_label: str, new_label: str, *, show_all: bool) -> str:
    """A pull-request comment: a summary line, a table per test, details folded; cut at MARKDOWN_LIMIT with a
    note of what was left out."""
    summary = summarize(reports)
    header = [
        f"### Recording changes: {_md_code(old_label)} → {_md_code(new_label)}",
        "",
        f"{summary.bucket_line() or 'nothing to compare'} ({plural(len(reports), 'pair')})",
        "",
        "",
    ]
    shown = [r for r in reports if r.bucket != "unchanged" and (show_all or r.meaningful)]
    by_test: dict[str, list[PairReport]] = defaultdict(list)
    for report in shown:
        by_test[report.test_id or NO_TEST].append(report)
    sections: list[tuple[str, int]] = []
    for test_id in sorted(by_test):
        rows = by_test[test_id]
        lines = [f"#### {_md_code(test_id)}", "", "| recording | status | paired by | changes |", "|---|---|---|---|"]
        for report in rows:
            lines.append(
                f"| {_md_cell(_md_code(_short_label(report)))} | {report.status} | {report.paired_by or ''} "
                f"| {', '.join(report.changes)} |"
            )
        lines.append("")
        for report in rows:
            body = _md_details(report)
            if body:
                name = (report.new or report.old or "").rsplit("/", 1)[-1]
                lines.extend(["<details>", f"<summary>{_md_html(name)}</summary>", "", body, "", "</details>", ""])
        sections.append(("\n".join(lines), len(rows)))
    noise = sum(1 for r in reports if r.bucket in ("volatile only", "chunking only", "moved"))
    footer = [] if show_all or not noise else [f"_{noise} moved, volatile-only or chunking-only pairs not listed._", ""]
    out = "\n".join(header)
    budget = MARKDOWN_LIMIT - len(out) - sum(len(line) + 1 for line in footer) - 200
    cut_tests = cut_pairs = 0
    for text, count in sections:
        if len(text) + 1 > budget:
            cut_tests += 1
            cut_pairs += count
            continue
        out += text + "\n"
        budget -= len(text) + 1
    if cut_tests:
        out += (
            f"\n_Cut to fit a comment: {cut_tests} more tests ({cut_pairs} pairs) not shown; "
            "run `fixtures diff` locally for everything._\n\n"
        )
    out += "\n".join(footer)
    return out


def print_markdown(text: str) -> None:
    write_text(text)  # the sink masks secrets and shows control characters: the comment is public
