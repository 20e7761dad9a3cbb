"""The staged re-recordings compared by meaning with the files they would replace, as `fixtures diff` compares
two trees: the one place the pending set meets the diff core (`rerecord --pending`, `--review`, `fixtures diff
--pending`)."""

from __future__ import annotations

from collections.abc import Sequence

from llm_fixtures.config import Project
from llm_fixtures.diffing.gitreading import blob_id
from llm_fixtures.diffing.running import DiffResult, diff_trees
from llm_fixtures.diffing.sides import Source, Tree, volatility_of
from llm_fixtures.rerecording import review
from llm_fixtures.safepaths import NotRegularFile, read_regular

CURRENT = "current files"
PENDING = "pending"


def pending_diff(
    project: Project, refs: Sequence[str] = (), entries: Sequence[review.PendingEntry] | None = None
) -> DiffResult:
    """`fixtures diff` of the staged recordings (of `refs`, or all; or the `entries` given) against the files
    they replace; a staged file that replaces nothing pairs with nothing (new), or with the file its test wrote
    before under another name when the request changed."""
    root = project.root
    chosen = review.matching(review.load_pending(root), refs) if entries is None else list(entries)
    old, new = Tree(label=CURRENT), Tree(label=PENDING)
    for entry in chosen:
        target = review.target_of(root, entry)
        try:
            data = read_regular(target)
        except (OSError, NotRegularFile):
            data = None
        if data is not None:
            old.sources[entry.target] = Source(entry.target, entry.target, blob_id(data), path=target)
        staged = review.staged_bytes(root, entry)
        path = review.staged_path(root, entry)
        new.sources[entry.target] = Source(entry.target, entry.target, blob_id(staged), path=path)
    return diff_trees(old, new, volatility_of(project), identify_unchanged=True)
