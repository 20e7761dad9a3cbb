"""Staged re-recordings awaiting review (as cargo-insta keeps pending snapshots): stage, list, and accept or
reject them per test; the decision loop takes its answers from a callable, so a terminal or a test drives it.

`.fixtures/pending/MANIFEST` is read back as hostile data: every field of every entry is checked for its type,
an entry's id names its staged file (six digits, nothing else), and every target must lie inside the project
through every link (`safepaths.confined`). Anything else stops the whole operation in one line, nothing written."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llm_fixtures.errors import FixtureError
from llm_fixtures.filtering import matches_test
from llm_fixtures.rerecording.statedir import STATE_DIR, checked_state_dir, state_dir
from llm_fixtures.safepaths import OutsideProject, confined, read_regular
from llm_fixtures.store import write_atomic

PendingKind = Literal["new", "changed"]
Runner = Literal["pytest", "http"]
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


# Printable text: a control character in a test id or a path from the MANIFEST would reach the terminal.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
MAX_PENDING = 64 * 1024 * 1024


class BadPending(FixtureError):
    """A pending MANIFEST that cannot be used as it is (one line: what is wrong); nothing was changed."""


class PendingEntry(BaseModel):
    """One staged recording: where it goes, which test made it, whether it replaces a file."""

    model_config = ConfigDict(strict=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    test_id: Annotated[str, Field(pattern=_PRINTABLE, max_length=4096)] | None
    target: Annotated[str, Field(pattern=_PRINTABLE, min_length=1, max_length=4096)]
    kind: PendingKind
    runner: Runner
    bytes: Annotated[int, Field(ge=0)]


class PendingLine(BaseModel):
    """One line of `rerecord --pending --json`: the entry and its classes of change (as `fixtures diff`)."""

    id: str
    test_id: str | None
    target: str
    kind: PendingKind
    runner: Runner
    bytes: int
    changes: list[str] = []


class PendingTest(BaseModel):
    """The staged recordings of one test, reviewed together."""

    test_id: str | None
    entries: list[PendingEntry]


def pending_dir(root: Path) -> Path:
    return state_dir(root) / "pending"


def _manifest(root: Path) -> Path:
    return pending_dir(root) / "MANIFEST"


def manifest_path(root: Path) -> Path:
    return root / STATE_DIR / "pending" / "MANIFEST"


def load_pending(root: Path) -> list[PendingEntry]:
    """The staged recordings of the project, by target path, every one checked; BadPending (or OutsideProject)
    in one line when the MANIFEST is not one, or names a target outside the project."""
    if checked_state_dir(root) is None:
        return []
    path = manifest_path(root)
    if not path.exists() and not path.is_symlink():
        return []
    try:
        document = orjson.loads(read_regular(path, MAX_PENDING))
    except OSError as exc:
        raise BadPending(f"{path}: unreadable: {exc.strerror or exc}; nothing was changed") from None
    except orjson.JSONDecodeError:
        raise BadPending(f"{path}: not JSON (damaged); nothing was changed") from None
    if not isinstance(document, list):
        raise BadPending(f"{path}: not a list of staged recordings; nothing was changed")
    entries: list[PendingEntry] = []
    for index, item in enumerate(document):
        try:
            entry = PendingEntry.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "the entry"
            raise BadPending(f"{path}: entry {index + 1}: {where}: {first['msg']}; nothing was changed") from None
        try:
            confined(entry.target, root, what=f"{path}: entry {index + 1} target")
        except OutsideProject as exc:
            raise BadPending(f"{exc}; nothing was changed") from None
        entries.append(entry)
    return sorted(entries, key=lambda e: e.target)


def target_of(root: Path, entry: PendingEntry) -> Path:
    """Where an accepted entry is written: its target, inside the project through every link."""
    return confined(entry.target, root, what=str(manifest_path(root)))


def _save(root: Path, entries: Sequence[PendingEntry]) -> None:
    data = orjson.dumps([entry.model_dump() for entry in entries], option=orjson.OPT_INDENT_2)
    write_atomic(_manifest(root), data)


def _printable(text: str | None) -> str | None:
    return text if text is not None and not any(ord(c) < 32 or ord(c) == 127 for c in text) else None


def stage(root: Path, items: Iterable[tuple[Path, bytes, str | None]], runner: Runner) -> list[PendingEntry]:
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
        entry = PendingEntry(
            id=entry_id, test_id=_printable(test_id), target=relative, kind=kind, runner=runner, bytes=len(data)
        )
        entries[relative] = entry
        staged.append(entry)
    _save(root, list(entries.values()))
    return staged


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def staged_path(root: Path, entry: PendingEntry) -> Path:
    return root / STATE_DIR / "pending" / f"{entry.id}.staged"


def staged_bytes(root: Path, entry: PendingEntry) -> bytes:
    try:
        return read_regular(staged_path(root, entry))
    except OSError as exc:
        raise BadPending(f"{staged_path(root, entry)}: the staged recording is {exc.strerror or exc}") from None


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
    pending = load_pending(root)
    accepted = [(entry, target_of(root, entry), staged_bytes(root, entry)) for entry in pending if entry.id in chosen]
    remaining = [entry for entry in pending if entry.id not in chosen]
    for entry, target, data in accepted:
        write_atomic(target, data)
        staged_path(root, entry).unlink(missing_ok=True)  # the copy this module staged
        written.append(target)
    _save(root, remaining)
    return written


def reject(root: Path, entries: Iterable[PendingEntry]) -> int:
    """Forget the staged recordings; the old files were never touched. The number rejected."""
    chosen = {entry.id for entry in entries}
    pending = load_pending(root)
    remaining = [entry for entry in pending if entry.id not in chosen]
    for entry in pending:
        if entry.id in chosen:
            staged_path(root, entry).unlink(missing_ok=True)  # the copy this module staged
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
