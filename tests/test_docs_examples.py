"""The worked examples of docs/format.md and docs/assembly.md are what the tool does: every stored body folds to
the result shown, every example recording gets the names shown, every normalization example changes what it says.

An example is a fenced ```json block right after an HTML comment (invisible on GitHub):
`<!-- example: body -->` (a `response.body`; `streaming=false` for a non-stream one) followed later by
`<!-- example: assembled -->` (the keys shown must equal those of `show --assemble --json`, `warnings` included);
`<!-- example: recording current=NAME other-rule=NAME ... -->` (each rule gives that name, which the page shows);
`<!-- example: data hash=HASH -->` followed by `<!-- example: normalized -->` (the `__data__` before and after).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from conftest import REPO
from llm_fixtures.assembling import fold_body
from llm_fixtures.hashing import RuleKeys, rule_named
from llm_fixtures.normalizing import normalize_data

DOCS = REPO / "docs"
_EXAMPLE = re.compile(
    r"<!-- example: (?P<what>[a-z]+)(?P<options>[^>]*?)\s*-->\s*\n```json\n(?P<json>.*?)\n```", re.DOTALL
)


@dataclass(frozen=True)
class Example:
    page: str
    what: str
    options: dict[str, str]
    value: Any
    line: int

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.what})"


def examples(page: str) -> list[Example]:
    text = (DOCS / page).read_text(encoding="utf-8")
    found = []
    for match in _EXAMPLE.finditer(text):
        options = dict(option.split("=", 1) for option in match.group("options").split())
        line = text.count("\n", 0, match.start()) + 1
        found.append(Example(page, match.group("what"), options, json.loads(match.group("json")), line))
    return found


def pairs(page: str, first: str, second: str) -> list[tuple[Example, Example]]:
    """Each `first` example with the `second` one that follows it (an unpaired one fails the test)."""
    wanted = [example for example in examples(page) if example.what in (first, second)]
    found = []
    for number in range(0, len(wanted), 2):
        head = wanted[number]
        tail = wanted[number + 1] if number + 1 < len(wanted) else None
        assert head.what == first and tail is not None and tail.what == second, f"{head}: no {second} example after it"
        found.append((head, tail))
    return found


ASSEMBLY_PAIRS = pairs("assembly.md", "body", "assembled")
RECORDINGS = [example for example in examples("format.md") if example.what == "recording"]
NORMALIZATION_PAIRS = pairs("format.md", "data", "normalized")


def test_the_pages_have_examples() -> None:
    """A marker typo must not make the examples below silently vanish."""
    assert len(ASSEMBLY_PAIRS) >= 10
    assert RECORDINGS
    assert len(NORMALIZATION_PAIRS) >= 2
    for page in ("assembly.md", "format.md"):
        text = (DOCS / page).read_text(encoding="utf-8")
        assert text.count("<!-- example:") == len(examples(page)), f"{page}: a marker without a ```json block"


@pytest.mark.parametrize(("body", "assembled"), ASSEMBLY_PAIRS, ids=lambda example: str(example.line))
def test_a_documented_body_folds_to_the_documented_result(body: Example, assembled: Example) -> None:
    streaming = body.options.get("streaming", "true") == "true"
    _, result, warnings = fold_body(body.value, is_streaming=streaming)
    actual = {**result, "warnings": warnings}
    shown = assembled.value
    assert isinstance(shown, dict) and "kind" in shown, f"{assembled}: show at least the kind"
    for key, value in shown.items():
        assert key in actual, f"{assembled}: the result has no {key!r}"
        assert actual[key] == value, f"{assembled}: {key!r} is {actual[key]!r}"


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda example: str(example.line))
def test_a_documented_recording_gets_the_documented_names(recording: Example) -> None:
    text = (DOCS / recording.page).read_text(encoding="utf-8")
    keys = RuleKeys(recording.value)
    assert recording.options, f"{recording}: name at least one rule"
    for rule, name in recording.options.items():
        assert keys.name(rule_named(rule)) == name, f"{recording}: rule {rule}"
        assert text.count(name.removesuffix(".json")) >= 2, f"{recording}: the page never shows {name}"


@pytest.mark.parametrize(("data", "normalized"), NORMALIZATION_PAIRS, ids=lambda example: str(example.line))
def test_a_documented_normalization_changes_what_it_shows(data: Example, normalized: Example) -> None:
    result, _ = normalize_data(data.value, data.options["hash"])
    assert result == normalized.value
    assert list(result) == list(normalized.value), "key order is kept"
