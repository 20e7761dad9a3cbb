"""Human output of `fixtures explain`: per miss, the test, the request, what is on disk, the cause and the fix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.text import Text

from llm_fixtures.escaping import one_line
from llm_fixtures.explaining.model import Candidate, Explanation
from llm_fixtures.humanizing import plural
from llm_fixtures.render.console import stderr_console, stdout_console

# The most candidates listed per relation; the rest are counted.
SHOWN = 8
_HEADINGS = {
    "this-test": "this test",
    "other-model": "this test, other models",
    "other-parametrization": "other parametrizations",
    "other-test": "other tests",
}
_STATUS_STYLE = {"ok": "green", "stale": "red", "mismatch": "red", "unverifiable": "dim", "unreadable": "red"}
_LABEL = 10


def _label(block: Text, label: str) -> None:
    block.append("\n  ")
    block.append(label.ljust(_LABEL), style="bold")


def _request(explanation: Explanation) -> str:
    parts = []
    if explanation.kind == "tool":
        parts.append(explanation.endpoint or "tool call")
    else:
        parts.append(f"POST {explanation.url or explanation.endpoint or '?'}")
    if explanation.model:
        parts.append(explanation.model)
    parts.append(f"hash {explanation.hash}" if explanation.hash else "hash not in the log")
    return one_line(" · ".join(parts)) + f"  (log line {explanation.line})"


def _candidate(block: Text, candidate: Candidate, indent: str) -> None:
    block.append(f"\n{indent}")
    block.append(candidate.status.ljust(13), style=_STATUS_STYLE.get(candidate.status, ""))
    block.append(one_line(candidate.path))
    more = f"{indent}{' ' * 13}"
    if candidate.relation != "this-test" and candidate.test_id:
        block.append(f"\n{more}test {one_line(candidate.test_id)}", style="dim")
        if candidate.relation == "other-model" and candidate.model:
            block.append(f" · {one_line(candidate.model)}", style="dim")
        if candidate.test_gone:
            block.append(f" ({one_line(candidate.test_gone)})", style="dim")
    if candidate.status != "ok":
        block.append(f"\n{more}{one_line(candidate.message)}")
    if candidate.replays_as:
        block.append(f"\n{more}its content hashes to the missing hash ({candidate.replays_as} rule)", style="green")


def _candidates(block: Text, candidates: Sequence[Candidate], *, test_known: bool, certain: bool) -> None:
    _label(block, "on disk")
    if not candidates:
        block.append("nothing for this call")
        return
    indent = "  " + " " * _LABEL
    others: list[Candidate] = []
    if certain and any(candidate.replays_as for candidate in candidates):
        # The cause is known: the recording that proves it; the others counted (--json lists them all).
        others = [candidate for candidate in candidates if not candidate.replays_as]
        candidates = [candidate for candidate in candidates if candidate.replays_as]
    first = True
    for relation, heading in _HEADINGS.items():
        group = [candidate for candidate in candidates if candidate.relation == relation]
        if not group:
            continue
        if not first:
            block.append(f"\n{indent}")
        block.append(heading if test_known else "recordings of this call", style="italic")
        first = False
        for candidate in group[:SHOWN]:
            _candidate(block, candidate, indent + "  ")
        if len(group) > SHOWN:
            block.append(f"\n{indent}  … and {len(group) - SHOWN} more", style="dim")
    if others:
        block.append(
            f"\n{indent}and {plural(len(others), 'other recording')} of this call (--json lists them)", style="dim"
        )


def explanation_text(explanation: Explanation) -> Text:
    """One miss as a block of text (no markup: every value is the user's data)."""
    block = Text()
    block.append(one_line(explanation.test_id or "(test not named in the log)"), style="bold")
    _label(block, "missed")
    block.append(_request(explanation))
    _candidates(block, explanation.candidates, test_known=explanation.test_id is not None, certain=explanation.certain)
    _label(block, "cause")
    block.append(explanation.cause, style="bold green" if explanation.certain else "bold yellow")
    block.append(" (certain): " if explanation.certain else ": ")
    block.append(one_line(explanation.reason))
    for ranked in explanation.causes[1:]:
        _label(block, "or")
        block.append(ranked.cause, style="yellow")
        block.append(f": {one_line(ranked.reason)}")
    for drift in explanation.drift:
        _label(block, "drift")
        block.append(one_line(f"{drift.field}: {drift.difference}"))
        block.append(f"\n  {' ' * _LABEL}normalization: {one_line(drift.normalization)}", style="dim")
    for note in explanation.notes:
        _label(block, "note")
        block.append(one_line(note))
    for index, command in enumerate(explanation.fix):
        _label(block, "fix" if index == 0 else "then")
        block.append(one_line(command), style="cyan")
    if explanation.record_command:
        _label(block, "runs")
        block.append(one_line(explanation.record_command))
        if explanation.setup:
            block.append(f"  (setup {one_line(explanation.setup)}, as the preset chose for this id)", style="dim")
    if not explanation.fix:
        _label(block, "fix")
        block.append("re-run the replay" if explanation.cause == "present" else "none known", style="dim")
    block.append("\n")
    return block


def render_explanations(explanations: Sequence[Explanation], *, failed: int) -> None:
    """Every miss, then a count of causes on stderr."""
    console = stdout_console()
    for explanation in explanations:
        console.print(explanation_text(explanation), soft_wrap=True)
    causes = Counter(explanation.cause for explanation in explanations)
    certain = sum(explanation.certain for explanation in explanations)
    counts = ", ".join(f"{count} {cause}" for cause, count in sorted(causes.items(), key=lambda i: (-i[1], i[0])))
    tests = len({explanation.test_id for explanation in explanations if explanation.test_id})
    misses = plural(len(explanations), "replay miss", "replay misses")
    summary = f"{misses} in {plural(tests, 'test')}: {counts}; {certain} certain"
    if failed > tests:
        summary += f"; {plural(failed - tests, 'other failed test')} did not miss a recording"
    stderr_console().print(Text(summary))
