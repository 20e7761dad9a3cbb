"""Every miss of a log explained, in log order: relate the project's recordings to it, judge them, look for drift,
rank the causes. The caller supplies the I/O (reading a recording, telling whether a test still exists)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from llm_fixtures.diffing.volatility import Volatility
from llm_fixtures.explaining.candidates import Examined, judge, relate
from llm_fixtures.explaining.causes import RERECORD, explain, relevant
from llm_fixtures.explaining.drift import find_drift
from llm_fixtures.explaining.model import Explanation, Miss
from llm_fixtures.facts import Facts

if TYPE_CHECKING:
    from llm_fixtures.rerecording.runs import RunPlan

Load = Callable[[Facts], dict[str, Any] | None]
Gone = Callable[[Facts], str | None]


def explain_misses(
    misses: Sequence[Miss], facts: Sequence[Facts], load: Load, gone: Gone, volatility: Volatility
) -> list[Explanation]:
    """One explanation per miss. `load` gives a recording's parsed content (None when it cannot be read again),
    `gone` why a recording's test no longer exists (None while it does)."""
    explanations = []
    examined: dict[str, Examined] = {}

    def examine(fact: Facts) -> Examined:
        if fact.path not in examined:
            examined[fact.path] = Examined.of(fact, load(fact))
        return examined[fact.path]

    for miss in misses:
        related = relate(miss, facts)
        candidates = []
        for relation, fact in related.all():
            if relation == "other-test" and miss.hash is None and gone(fact) is None:
                continue  # it can neither hold the very request nor be the old id of this test
            candidate = judge(examine(fact), relation, miss, gone(fact) if relation == "other-test" else None)
            if relevant(miss, candidate):
                candidates.append(candidate)
        own = [(fact.path, examine(fact).raw) for fact in related.this_test]
        recordings = [(path, raw) for path, raw in own if raw is not None]
        # Drift is looked for only when no recording is certainly the one (it compares pairs, with deepdiff).
        explanations.append(explain(miss, related, candidates, partial(find_drift, recordings, volatility)))
    return explanations


def rerecorded_tests(explanations: Sequence[Explanation]) -> list[str]:
    """The tests whose fix re-records them, each once."""
    found = (e.test_id for e in explanations if e.test_id and any(c.startswith(RERECORD) for c in e.fix))
    return list(dict.fromkeys(found))


def attach_runs(explanations: Sequence[Explanation], runs: Mapping[str, RunPlan | str]) -> None:
    """Name in each explanation whose fix re-records its test the run that does it (the setup the preset chose for
    the id, the pytest command), or why no run can."""
    for explanation in explanations:
        found = runs.get(explanation.test_id or "")
        if found is None or not any(command.startswith(RERECORD) for command in explanation.fix):
            continue
        if isinstance(found, str):
            explanation.notes.append(f"`fixtures rerecord` cannot record it: {found}")
            continue
        explanation.setup = found.setup
        explanation.record_command = found.shell
