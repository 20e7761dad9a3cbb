"""What a re-recording changed, in the words of `fixtures diff`: the classes of change between an old file and
its new bytes (for each file the http runner wrote, too), and for a record run the whole diff of the tests'
recordings before and after, where a new file that replaced a superseded one (its request changed, so its name
did) is paired with it by test."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_fixtures.decoding import dump_upstream, load_bytes
from llm_fixtures.diffing.gitreading import blob_id
from llm_fixtures.diffing.report import PairReport
from llm_fixtures.diffing.running import diff_trees
from llm_fixtures.diffing.sides import Source, Tree
from llm_fixtures.diffing.volatility import Volatility
from llm_fixtures.errors import BadRecording
from llm_fixtures.rerecording.backup import Backup
from llm_fixtures.rerecording.outcome import Outcome

if TYPE_CHECKING:
    from llm_fixtures.rerecording.httprunner import FileResult


def change_classes(old: bytes, new: bytes, display: str, volatility: Volatility) -> list[str]:
    """The diff classes between two versions of one recording; `["unchanged"]` when they mean the same, and
    `["unreadable"]` when either side does not parse (the bytes differ all the same)."""
    from llm_fixtures.diffing.comparing import compare

    if old == new:
        return ["unchanged"]
    try:
        before, after = load_bytes(old, display), load_bytes(new, display)
    except BadRecording:
        return ["unreadable"]
    classes, _details = compare((before.raw, before.facts), (after.raw, after.facts), volatility)
    return list(classes) or ["unchanged"]


def classify_results(results: Iterable[FileResult], old: Mapping[str, dict[str, Any]], volatility: Volatility) -> None:
    """Fill in the classes of change of each file the http runner re-recorded, against what it held before
    (`old`: the parsed recording by display path)."""
    for result in results:
        if result.status == "ok" and result.changed and result.written:
            before = dump_upstream(old[result.path])
            result.changes = change_classes(before, Path(result.written).read_bytes(), result.path, volatility)


def _source(key: str, path: Path) -> Source:
    return Source(key, key, blob_id(path.read_bytes()), path=path)


def diff_run(backup: Backup, outcome: Outcome, root: Path, volatility: Volatility) -> list[PairReport]:
    """`fixtures diff` of the selected tests' recordings (and of the other files the run changed): before (the
    backup) against after (what the run wrote, without the superseded files, so each can pair with the new file
    that replaced it)."""
    touched = {*outcome.outside, *outcome.deleted}
    before = Tree(label="before the run")
    for path, copy in backup.copies.items():
        key = _key(path, root)
        if path in backup.selected or key in touched:
            before.sources[key] = _source(key, copy)
    after = Tree(label="after the run")
    for key in [*outcome.changed, *outcome.unchanged, *outcome.new, *outcome.outside]:
        after.sources[key] = _source(key, root / key)
    return diff_trees(before, after, volatility, identify_unchanged=True).reports


def _key(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def classes_by_path(reports: list[PairReport]) -> dict[str, list[str]]:
    """The classes of change of each file of a changed pair, on both sides (a superseded file and the new one
    paired with it share theirs)."""
    classes: dict[str, list[str]] = {}
    for report in reports:
        if report.status == "changed":
            for side in (report.old, report.new):
                if side is not None:
                    classes[side] = list(report.changes)
    return classes
