"""Every miss of a log explained, in log order: relate the project's recordings to it, judge them, look for drift,
rank the causes. The caller supplies the I/O (reading a recording, telling whether a test still exists)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llm_fixtures.diffing.volatility import Volatility
from llm_fixtures.explaining.candidates import judge, relate
from llm_fixtures.explaining.causes import explain, relevant
from llm_fixtures.explaining.drift import find_drift
from llm_fixtures.explaining.model import Explanation, Miss
from llm_fixtures.facts import Facts

Load = Callable[[Facts], dict[str, Any] | None]
Gone = Callable[[Facts], str | None]


def explain_misses(
    misses: Sequence[Miss], facts: Sequence[Facts], load: Load, gone: Gone, volatility: Volatility
) -> list[Explanation]:
    """One explanation per miss. `load` gives a recording's parsed content (None when it cannot be read again),
    `gone` why a recording's test no longer exists (None while it does)."""
    explanations = []
    for miss in misses:
        related = relate(miss, facts)
        candidates = []
        for relation, fact in related.all():
            if relation == "other-test" and miss.hash is None and gone(fact) is None:
                continue  # it can neither hold the very request nor be the old id of this test
            candidate = judge(fact, load(fact), relation, miss, gone(fact) if relation == "other-test" else None)
            if relevant(miss, candidate):
                candidates.append(candidate)
        own = [(fact.path, load(fact)) for fact in related.this_test]
        drift = find_drift([(path, raw) for path, raw in own if raw is not None], volatility)
        explanations.append(explain(miss, related, candidates, drift))
    return explanations
