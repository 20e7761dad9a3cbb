"""Staged re-recordings awaiting review (as cargo-insta keeps pending snapshots): stage, list, and accept or
reject them per test; the decision loop takes its answers from a callable, so a terminal or a test drives it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel

from llm_fixtures.filtering import matches_test
from llm_fixtures.rerecording.statedir import state_dir
from llm_fixtures.store import write_atomic

PendingKind = Literal["new", "changed"]
Decision = Literal["accept", "reject", "skip"]
# Keys of the terminal prompt: lower case for this test, upper case for it and every remaining one.
KEYS: dict[str, tuple[Decision, bool]] = {
    "a": ("accept", False),
    "r": ("reject", False),
    "s": ("skip", False),
    "A": ("accept", True),
    "R": ("reject", True),
    "S": ("skip", True),
}


class PendingEntry(BaseModel):
    """One staged recording: where it goes, which test made it, whether it replaces a file."""

    id: str
    test_id: str | None
    target: str
    kind: PendingKind
    runner: str
    bytes: int


class PendingTest(BaseModel):
    """The staged recordings of one test, reviewed together."""

    test_id: str | None
    entries: list[PendingEntry]


def pending_dir(root: Path) -> Path:
    return state_dir(root) / "pending"


def _manifest(root: Path) -> Path:
    return pending_dir(root) / "MANIFEST"


def load_pending(root: Path) -> list[PendingEntry]:
    """The staged recordings of the project, by target path."""
    path = root / ".fixtures" / "pending" / "MANIFEST"
    if not path.is_file():
        return []
    document = orjson.loads(path.read_bytes())
    return sorted((PendingEntry.model_validate(item) for item in document), key=lambda e: e.target)


def _save(root: Path, entries: Sequence[PendingEntry]) -> None:
    data = orjson.dumps([entry.model_dump() for entry in entries], option=orjson.OPT_INDENT_2)
    write_atomic(_manifest(root), data)


def stage(root: Path, items: Iterable[tuple[Path, bytes, str | None]], runner: str) -> list[PendingEntry]:
    """Stage `(target, new bytes, test id)` items instead of writing them; a target staged before is replaced."""
    folder = pending_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    entries = {entry.target: entry for entry in load_pending(root)}
    used = {entry.id for entry in entries.values()}
    counter = itertools.count(1)
    staged: list[PendingEntry] = []
    for target, data, test_id in items:
        relative = _relative(target, root)
        old = entries.get(relative)
        if old is not None:
            entry_id = old.id
        else:
            entry_id = next(f"{n:06d}" for n in counter if f"{n:06d}" not in used)
            used.add(entry_id)
        write_atomic(folder / f"{entry_id}.staged", data)
        kind: PendingKind = "changed" if target.exists() else "new"
        entry = PendingEntry(id=entry_id, test_id=test_id, target=relative, kind=kind, runner=runner, bytes=len(data))
        entries[relative] = entry
        staged.append(entry)
    _save(root, list(entries.values()))
    return staged


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def staged_bytes(root: Path, entry: PendingEntry) -> bytes:
    return (pending_dir(root) / f"{entry.id}.staged").read_bytes()


def by_test(entries: Iterable[PendingEntry]) -> list[PendingTest]:
    """Entries grouped per test id (entries without one last), in a stable order."""
    groups: dict[str | None, list[PendingEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.test_id, []).append(entry)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return [PendingTest(test_id=test_id, entries=sorted(items, key=lambda e: e.target)) for test_id, items in ordered]


def matching(entries: Iterable[PendingEntry], refs: Sequence[str]) -> list[PendingEntry]:
    """Entries named by `refs` (a test id, a test-id pattern as in `ls --test`, or a target path); all without."""
    chosen = list(entries)
    if not refs:
        return chosen
    return [
        entry
        for entry in chosen
        if any(
            entry.target == ref or entry.target.endswith("/" + ref.lstrip("./")) or matches_test(entry.test_id, ref)
            for ref in refs
        )
    ]


def accept(root: Path, entries: Iterable[PendingEntry]) -> list[Path]:
    """Write each staged recording to its target (atomically) and forget it; the paths written."""
    chosen = {entry.id for entry in entries}
    written: list[Path] = []
    remaining: list[PendingEntry] = []
    for entry in load_pending(root):
        if entry.id not in chosen:
            remaining.append(entry)
            continue
        target = root / entry.target
        write_atomic(target, staged_bytes(root, entry))
        (pending_dir(root) / f"{entry.id}.staged").unlink(missing_ok=True)
        written.append(target)
    _save(root, remaining)
    return written


def reject(root: Path, entries: Iterable[PendingEntry]) -> int:
    """Forget the staged recordings; the old files were never touched. The number rejected."""
    chosen = {entry.id for entry in entries}
    remaining = [entry for entry in load_pending(root) if entry.id not in chosen]
    for entry_id in chosen:
        (pending_dir(root) / f"{entry_id}.staged").unlink(missing_ok=True)
    _save(root, remaining)
    return len(chosen)


def decide(tests: Sequence[PendingTest], ask: Callable[[PendingTest, int, int], str]) -> dict[int, Decision]:
    """Ask once per test (`a`/`r`/`s`, or `A`/`R`/`S` for it and all the remaining ones); the decision per
    test index. An unknown answer is asked again."""
    decisions: dict[int, Decision] = {}
    sticky: Decision | None = None
    for index, test in enumerate(tests):
        if sticky is not None:
            decisions[index] = sticky
            continue
        while True:
            answer = ask(test, index, len(tests)).strip()
            if answer in KEYS:
                break
        decision, remaining = KEYS[answer]
        decisions[index] = decision
        if remaining:
            sticky = decision
    return decisions
