"""What a record run did to the watched folders, against its backup: each file by what happened to it, and the
same as `rerecord --json` lines."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from llm_fixtures.rerecording.backup import Backup, relative, snapshot, test_id_in
from llm_fixtures.safepaths import read_regular


class Outcome(BaseModel):
    """Each file the run touched, by what happened to it. `superseded`: an old recording of a test that wrote
    recordings in this run, but not this one again (the test no longer makes that request). `not_rerecorded`: the
    recordings of a test that wrote nothing at all (skipped, deselected, or it failed before its first call):
    they are not superseded, and never pruned."""

    changed: list[str] = []
    unchanged: list[str] = []
    new: list[str] = []
    superseded: list[str] = []
    not_rerecorded: list[str] = []
    deleted: list[str] = []
    outside: list[str] = []
    tests_written: list[str] = []  # the test ids of the recordings the run wrote (new, changed or the same)


def _test_id_of(path: Path) -> str | None:
    try:
        return test_id_in(read_regular(path))
    except OSError:
        return None


def compare(backup: Backup, root: Path, tests: dict[Path, str | None]) -> Outcome:
    """What the run did to the watched folders, against the backup. `tests`: the test id of each recording of
    the selected tests. Files not of the selected tests that the run (or anyone) changed are `outside`."""
    after = snapshot(backup.watched)
    outcome = Outcome()
    written: set[str | None] = set()
    kept: list[Path] = []
    for path, copy in sorted(backup.copies.items()):
        stamp = after.get(path)
        selected = path in backup.selected
        if stamp is None:
            outcome.deleted.append(relative(path, root))
        elif stamp == backup.before.get(path):
            if selected:
                kept.append(path)
        elif read_regular(path) != read_regular(copy):
            (outcome.changed if selected else outcome.outside).append(relative(path, root))
            if selected:
                written.add(tests.get(path))
        elif selected:
            outcome.unchanged.append(relative(path, root))
            written.add(tests.get(path))
    for path in sorted(after):
        if path not in backup.before:
            outcome.new.append(relative(path, root))
            written.add(_test_id_of(path))
        elif path not in backup.copies and after[path] != backup.before[path]:
            outcome.outside.append(relative(path, root))
    for path in kept:
        which = outcome.superseded if tests.get(path) in written else outcome.not_rerecorded
        which.append(relative(path, root))
    outcome.outside.sort()
    outcome.tests_written = sorted(test for test in written if test)
    return outcome


class OutcomeLine(BaseModel):
    """One line of `rerecord --json` after a record run."""

    path: str
    status: str
    changes: list[str] = []


def outcome_lines(outcome: Outcome, classes: dict[str, list[str]]) -> list[OutcomeLine]:
    lines: list[OutcomeLine] = []
    for status in ("changed", "unchanged", "new", "superseded", "not_rerecorded", "deleted", "outside"):
        for path in getattr(outcome, status):
            shown = status.replace("_", "-")
            lines.append(OutcomeLine(path=path, status=shown, changes=classes.get(path, [])))
    return sorted(lines, key=lambda line: line.path)
