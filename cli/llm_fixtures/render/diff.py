"""Rendering a diff of recordings: a human summary with word diffs, and a Markdown pull-request comment."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from rich.text import Text

from llm_fixtures.diffing import CLASSES, NOISE, FieldChange, PairReport, TextChange
from llm_fixtures.render.console import stdout_console, write_text

NO_TEST = "(no test id)"
# GitHub refuses comments over 65,536 characters; leave room for a header a workflow may add.
MARKDOWN_LIMIT = 60_000
VALUE_WIDTH = 80


def _short(value: Any, width: int = VALUE_WIDTH) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _field_line(change: FieldChange) -> str:
    if change.old is None and change.new is not None:
        return f"{change.path}: added {_short(change.new)}"
    if change.new is None and change.old is not None:
        return f"{change.path}: removed {_short(change.old)}"
    return f"{change.path}: {_short(change.old)} → {_short(change.new)}"


def _safe(text: str) -> str:
    """Recorded text as a terminal can take it: a lone surrogate (never valid UTF-8) becomes U+FFFD."""
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def word_diff_text(change: TextChange) -> Text:
    """A word diff with `[-removed-]` and `{+added+}` markers (kept without colour) and red/green styles."""
    text = Text()
    for op, words in change.ops:
        if op == "-":
            text.append(f"[-{_safe(words)}-]", style="red")
        elif op == "+":
            text.append(f"{{+{_safe(words)}+}}", style="green")
        else:
            text.append(_safe(words), style="dim" if " … " in words else "")
    return text


def classify(report: PairReport) -> str:
    """The bucket a pair is counted in: its status, or for a changed pair `volatile only` / `chunking only`."""
    if report.status != "changed":
        return report.status
    if report.meaningful:
        return "changed"
    return "chunking only" if "chunking" in report.changes else "volatile only"


def _label(report: PairReport) -> str:
    # Paired by path, the two differ only by the folder or revision they come from: one is enough.
    if (
        report.old
        and report.new
        and report.old != report.new
        and (report.details.paired_by != "path" or report.old.rsplit("/", 1)[-1] != report.new.rsplit("/", 1)[-1])
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
    for name in ("endpoint", "url", "model", "finish_reason"):
        change = getattr(details, name)
        if change is not None:
            lines.append((name, f"{_short(change.old)} → {_short(change.new)}"))
    if details.content is not None:
        lines.append(("content", word_diff_text(details.content)))
    lines.extend(("content", _field_line(change)) for change in details.content_fields)
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
    lines.extend(("error", _field_line(change)) for change in details.error)
    if details.chunking is not None:
        lines.append(("chunking", f"{details.chunking.old} → {details.chunking.new} chunks"))
    if details.volatile:
        lines.append(("volatile", ", ".join(details.volatile)))
    if details.truncated:
        lines.append(("note", f"{details.truncated} more field changes not shown"))
    lines.extend(("warning", warning) for warning in details.warnings)
    return lines


def summary_counts(reports: Sequence[PairReport]) -> tuple[Counter[str], Counter[str], dict[str, Counter[str]]]:
    """Pairs per bucket, per class, and per test (buckets and classes of the pairs that are not unchanged)."""
    buckets: Counter[str] = Counter(classify(r) for r in reports)
    classes: Counter[str] = Counter(change for r in reports for change in r.changes)
    per_test: dict[str, Counter[str]] = defaultdict(Counter)
    for report in reports:
        if report.status == "unchanged":
            continue
        per_test[report.test_id or NO_TEST][classify(report)] += 1
    return buckets, classes, dict(per_test)


_BUCKET_ORDER = ("changed", "added", "removed", "error", "chunking only", "volatile only", "unchanged")


def _bucket_line(buckets: Counter[str]) -> str:
    return ", ".join(f"{buckets[name]} {name}" for name in _BUCKET_ORDER if buckets[name])


def render_human(reports: Sequence[PairReport], old_label: str, new_label: str, *, show_all: bool) -> None:
    """Counts per class and per test, then each meaningful pair with its details; noise folded."""
    console = stdout_console()
    # Long test ids and word diffs stay on one line each: the terminal wraps them, and a pipe keeps them whole.
    console.soft_wrap = True
    buckets, classes, per_test = summary_counts(reports)
    classes_per_test: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        if report.meaningful:
            classes_per_test[report.test_id or NO_TEST].update(c for c in report.changes if c not in NOISE)
    console.print(Text(_safe(f"{old_label} → {new_label}: {len(reports)} pairs"), style="bold"))
    console.print(Text(f"  {_bucket_line(buckets) or 'nothing to compare'}"))
    if classes:
        console.print(Text("By class:", style="bold"))
        for name in CLASSES:
            if classes[name]:
                console.print(Text(f"  {name:<14} {classes[name]}"))
    if per_test:
        console.print(Text("By test:", style="bold"))
        for test_id in sorted(per_test):
            meaningful = sorted(classes_per_test.get(test_id, ()), key=CLASSES.index)
            summary = f"  {test_id}: {_bucket_line(per_test[test_id])}"
            console.print(Text(_safe(summary) + (f" [{', '.join(meaningful)}]" if meaningful else "")))
    folded: dict[str, list[PairReport]] = defaultdict(list)
    for report in reports:
        bucket = classify(report)
        if bucket == "unchanged" and not show_all:
            continue
        if bucket in ("volatile only", "chunking only") and not show_all:
            folded[bucket].append(report)
            continue
        if bucket == "unchanged":
            continue
        console.print()
        head = Text(f"{report.status:<8} ", style="bold yellow" if report.meaningful else "bold")
        head.append(_safe(_label(report)), style="bold")
        if report.changes:
            head.append(f"  [{', '.join(report.changes)}]")
        console.print(head)
        if report.test_id:
            console.print(Text(f"  test: {_safe(report.test_id)}", style="dim"))
        for label, line in _detail_lines(report):
            row = Text(f"  {label}: ", style="cyan")
            row.append(line if isinstance(line, Text) else Text(_safe(line)))
            console.print(row)
    if folded:
        console.print()
        for bucket in ("chunking only", "volatile only"):
            if folded[bucket]:
                console.print(
                    Text(f"{len(folded[bucket])} pairs {bucket} (folded; --show-all lists them)", style="dim")
                )


# ---------------------------------------------------------------------------------------------- markdown


def _md_code(value: str) -> str:
    fence = "``" if "`" in value else "`"
    return f"{fence}{value}{fence}" if fence == "`" else f"{fence} {value} {fence}"


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def _md_details(report: PairReport) -> str:
    lines: list[str] = []
    for label, line in _detail_lines(report):
        plain = line.plain if isinstance(line, Text) else line
        if label in ("content", "reasoning", "  arguments") and isinstance(line, Text):
            block = _diff_block(report, label.strip())
            # A fence longer than any run of backticks in the text, so recorded Markdown cannot close it.
            runs = [len(run) for text in block for run in re.findall(r"`+", text)]
            fence = "`" * max(3, max(runs, default=0) + 1)
            lines.extend([f"{label.strip()}:", f"{fence}diff", *block, fence])
        else:
            lines.append(f"- {label.strip()}: {_md_cell(plain)}")
    return "\n".join(lines)


def _diff_block(report: PairReport, label: str) -> list[str]:
    change: TextChange | None = None
    if label == "content":
        change = report.details.content
    elif label == "reasoning":
        change = report.details.reasoning
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
    buckets, _classes, _per_test = summary_counts(reports)
    header = [
        f"### Recording changes: {_md_code(old_label)} → {_md_code(new_label)}",
        "",
        f"{_bucket_line(buckets) or 'nothing to compare'} ({len(reports)} pairs)",
        "",
        "",
    ]
    shown = [r for r in reports if classify(r) not in ("unchanged",) and (show_all or r.meaningful)]
    by_test: dict[str, list[PairReport]] = defaultdict(list)
    for report in shown:
        by_test[report.test_id or NO_TEST].append(report)
    sections: list[tuple[str, int]] = []
    for test_id in sorted(by_test):
        rows = by_test[test_id]
        lines = [f"#### {_md_code(test_id)}", "", "| recording | status | changes |", "|---|---|---|"]
        for report in rows:
            lines.append(
                f"| {_md_cell(_md_code(_short_label(report)))} | {report.status} | {', '.join(report.changes)} |"
            )
        lines.append("")
        for report in rows:
            body = _md_details(report)
            if body:
                name = (report.new or report.old or "").rsplit("/", 1)[-1]
                lines.extend(["<details>", f"<summary>{_md_cell(name)}</summary>", "", body, "", "</details>", ""])
        sections.append(("\n".join(lines), len(rows)))
    noise = sum(1 for r in reports if classify(r) in ("volatile only", "chunking only"))
    footer = [] if show_all or not noise else [f"_{noise} volatile-only or chunking-only pairs not listed._", ""]
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
