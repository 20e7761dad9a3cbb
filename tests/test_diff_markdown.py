"""`diff --format markdown` with hostile test ids and paths: read back by a CommonMark parser with GitHub's tables,
every table row keeps its four cells, every test id and path stays one code span holding exactly its text, and
nothing recorded becomes HTML."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from llm_fixtures.diffing.report import Details, FieldChange, PairReport
from llm_fixtures.escaping import one_line
from llm_fixtures.render.diff import _md_code, render_markdown

HOSTILE_IDS = [
    "tests/a.py::test_x[`]",
    "tests/a.py::test_x[``double``]",
    "tests/a.py::test_x[a|b]",
    "tests/a.py::test_x[| --- |]",
    "`starts and ends with a backtick`",
    "tests/a.py::test_x[</details><img src=x onerror=alert(1)>]",
    "tests/a.py::test_x[line\nbreak]",
    "tests/a.py::test_x[**bold** [link](http://example.com)]",
]


def _parse(text: str) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(text)


def _inline_children(tokens: list[Token]) -> list[Token]:
    return [child for token in tokens if token.type == "inline" for child in token.children or []]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "`plain`"),
        ("a`b", "`` a`b ``"),
        ("a``b`", "``` a``b` ```"),
        ("`", "`` ` ``"),
        ("two\nlines\r\nhere", "`two\\nlines\\r\\nhere`"),  # line breaks shown escaped, on one line
    ],
)
def test_md_code_fences_outlast_the_backticks_inside(value: str, expected: str) -> None:
    assert _md_code(value) == expected
    (span,) = [child for child in _inline_children(_parse(expected)) if child.type == "code_inline"]
    assert span.content == one_line(value)


def _report(test_id: str, index: int) -> PairReport:
    name = f"rec`{index}|x<b>&amp;.json"
    return PairReport(
        old=f"old/recordings/{name}",
        new=f"new/recordings/{name}",
        test_id=test_id,
        status="moved",
        paired_by="moved",
        changes=["request"],
        details=Details(
            moved=FieldChange(path="test_id", old=f"{test_id}-old", new=test_id),
            request=[FieldChange(path="$.body.messages[0].content", old="a | b", new="</details> `c`")],
        ),
    )


def test_markdown_keeps_hostile_test_ids_and_paths_in_their_cells_and_code_spans() -> None:
    reports = [_report(test_id, index) for index, test_id in enumerate(HOSTILE_IDS)]
    text = render_markdown(reports, "old|`x`", "new\nline", show_all=True)
    tokens = _parse(text)

    # Every row of every table has its four cells, the first a code span holding the file name(s) as they are.
    rows = [token for token in tokens if token.type == "tr_open"]
    assert len(rows) == 2 * len(HOSTILE_IDS)  # a header and one row per test
    cells_per_row: list[int] = []
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            end = next(i for i in range(index, len(tokens)) if tokens[i].type == "tr_close")
            cells_per_row.append(sum(1 for t in tokens[index:end] if t.type in ("td_open", "th_open")))
    assert set(cells_per_row) == {4}
    spans = [child.content for child in _inline_children(tokens) if child.type == "code_inline"]
    for index, test_id in enumerate(HOSTILE_IDS):
        flat = one_line(test_id)  # its line breaks shown as escapes
        assert spans.count(flat) == 1  # the heading of its table
        assert f"rec`{index}|x<b>&amp;.json" in spans  # its row
        moved = f"{json.dumps(test_id + '-old', ensure_ascii=False)} → {json.dumps(test_id, ensure_ascii=False)}"
        assert f"- moved: {_md_code(moved)}" in text and moved in spans  # the details: one code span
    assert "old|`x`" in spans and "new\\nline" in spans  # the labels in the title

    # The only HTML is what the renderer writes: <details> and <summary>, the names inside escaped.
    html = [t.content for t in tokens if t.type == "html_block"] + [
        c.content for c in _inline_children(tokens) if c.type == "html_inline"
    ]
    assert all(block.startswith(("<details>", "</details>")) for block in html), html
    for index in range(len(HOSTILE_IDS)):
        assert f"<summary>rec`{index}|x&lt;b&gt;&amp;amp;.json</summary>" in text
    # No link, image or emphasis came out of a recorded value.
    kinds = {child.type for child in _inline_children(tokens)}
    assert not kinds & {"link_open", "image", "em_open", "strong_open"}, kinds
