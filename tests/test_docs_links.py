"""Every relative link of README.md and docs/*.md leads somewhere: to a file or folder of the repository and, for a
link into a Markdown page, to a heading that page has. Every page of docs/ is linked from the README, and no page
names a Markdown file the repository does not hold (the README once pointed at three that were never in it)."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.DOTALL | re.MULTILINE)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$", re.MULTILINE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_MARKDOWN_NAME = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w.-]+\.md)\b")


def prose(text: str) -> str:
    """The text without code blocks, code spans and comments, where a link is not a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", _COMMENT.sub("", text)))


def links(text: str) -> list[str]:
    body = prose(text)
    return _INLINE_LINK.findall(body) + _REFERENCE.findall(body)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: markup dropped, lower case, punctuation removed, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings; a repeated heading gets `-1`, `-2`, ... as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for _, heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def broken_links(page: Path, root: Path = REPO) -> list[str]:
    """`target: why` for every relative link of `page` that leads nowhere."""
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        if _SCHEME.match(target) or target.startswith("//"):
            continue  # a URL, not a file of the repository
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not destination.is_relative_to(root.resolve()):
            broken.append(f"{target}: outside the repository")
        elif not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and unquote(anchor) not in anchors(destination):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO).as_posix())
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    assert links(page.read_text(encoding="utf-8")), "a page without links is not what this test expects"
    assert broken_links(page) == []


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(REPO / unquote(target.partition("#")[0])).resolve() for target in links(PAGES[0].read_text())}
    for page in PAGES[1:]:
        assert page.resolve() in linked, f"README.md does not link {page.relative_to(REPO)}"


def markdown_names(root: Path) -> set[str]:
    """The names of the Markdown files of the repository (hidden folders, virtual environments and caches left out)."""
    names: set[str] = set()
    for _folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__", "venv")]
        names.update(name for name in files if name.endswith(".md"))
    return names


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(REPO).as_posix())
def test_no_page_names_a_markdown_file_the_repository_lacks(page: Path) -> None:
    tracked = markdown_names(REPO)
    named = set(_MARKDOWN_NAME.findall(page.read_text(encoding="utf-8")))
    assert {name for name in named if name.rsplit("/", 1)[-1] not in tracked} == set()


def test_the_checker_finds_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "b.md").write_text("# Title\n\n## 2. The `x` rule: one\n\n## Same\n\n## Same\n")
    page = tmp_path / "docs" / "a.md"
    page.write_text(
        "[ok](b.md#2-the-x-rule-one) [ok](b.md#same-1) [ok](#local) [url](https://example.com/x.md)\n"
        "`[not a link](gone.md)`\n\n```\n[not a link](gone.md)\n```\n\n## Local\n\n"
        "[gone](missing.md) [bad anchor](b.md#nope) [out](../../etc/passwd) [ref]\n\n[ref]: b.md#title\n"
    )
    assert broken_links(page, tmp_path) == [
        "missing.md: no such file",
        "b.md#nope: no heading with anchor #nope",
        "../../etc/passwd: outside the repository",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("`fixtures show`: what a recording sent and got", "fixtures-show-what-a-recording-sent-and-got"),
        ("`--assemble`: the final message of a recorded stream", "--assemble-the-final-message-of-a-recorded-stream"),
        ("5. Envelopes: `__type__` and `__data__`", "5-envelopes-__type__-and-__data__"),
        ("8. Gemini `generate_content`", "8-gemini-generate_content"),
    ],
)
def test_anchors_are_spelt_as_github_spells_them(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor
