"""Backups left over by record runs that did not finish (`fixtures` killed, power lost): find them, refuse a new
run while one is there, and put one back exactly (`fixtures rerecord --restore`).

Putting back a leftover: every backed-up file gets its bytes, name, mode and modification time back. What that
would overwrite or remove is first moved to the trash as `fixtures prune --delete` does, because a restore may come
long after the crash and nothing may be lost: the dead run's version of each file put back in one batch, then
every file that appeared in the watched folders since the backup in a last batch, which `fixtures prune --restore`
brings back as it is (its places are free). A file another process wrote (it names a test the run did not run) is
left as it is (backup.py). Each file is replaced atomically and the backup is removed last, so a restore that is
itself interrupted is simply run again. The MANIFEST is hostile data: a path in it that leads outside the project
stops the whole restore before anything is touched."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from llm_fixtures.errors import FixtureError
from llm_fixtures.rerecording import manifest, runlock
from llm_fixtures.rerecording.backup import PREFIX, Backup, from_manifest, relative, restore
from llm_fixtures.rerecording.manifest import DamagedBackup
from llm_fixtures.rerecording.reporting import Reporter
from llm_fixtures.rerecording.statedir import checked_state_dir, tidy_state_dir

RESTORE_COMMAND = "fixtures rerecord --restore"


class Recovered(BaseModel):
    """What `--restore` did with one leftover backup. `incomplete`: its backup never finished, so its run never
    started and no file needed putting back. `restored`: files written back (the others had not changed);
    `replaced`: those of them whose version from the run was moved to the trash; `new`: files the run made,
    moved to the trash; `kept`: files another process wrote meanwhile, left as they are; `not_restorable`: files
    the run changed that were not backed up, named and not touched."""

    backup: str
    created: str | None
    status: Literal["restored", "incomplete"]
    backed_up: int = 0
    restored: list[str] = []
    replaced: list[str] = []
    new: list[str] = []
    kept: list[str] = []
    not_restorable: list[str] = []


def backup_folders(root: Path) -> list[Path]:
    """The backup folders in `<project>/.fixtures`, oldest first (never creates the folder)."""
    state = checked_state_dir(root)
    if state is None or not state.is_dir():
        return []
    return sorted(
        child
        for child in state.iterdir()
        if child.name.startswith(PREFIX) and child.is_dir() and not child.is_symlink()
    )


def _pid_note(folder: Path) -> str:
    try:
        found = manifest.read(folder)
    except DamagedBackup:
        return ""
    return f", pid {found.pid}" if found is not None else ""


def refuse_if_any(root: Path) -> None:
    """FixtureError (one line, naming the backup) when a backup is there: a run still going, or one left over,
    whose files a new run could overwrite before `--restore` puts them back."""
    for folder in backup_folders(root):
        try:
            fd = runlock.probe(folder)
        except FileNotFoundError:
            continue  # finished while we looked
        runlock.release(fd)
        shown = relative(folder, root)
        if fd is None:
            raise FixtureError(
                f"another fixtures rerecord is running ({shown}{_pid_note(folder)}); wait for it to end; "
                "nothing was run"
            )
        raise FixtureError(
            f"{shown} is left over from a rerecord that did not finish; `{RESTORE_COMMAND}` puts its files back; "
            "nothing was run"
        )


def _load(folder: Path, root: Path) -> Backup | None:
    """The checked backup in `folder`, or None when it never finished (its run never started)."""
    try:
        found = manifest.read(folder, root)
        if found is None:
            if any(folder.glob("*.bak")):
                raise DamagedBackup(f"{folder}: copies but no {manifest.NAME}")
            return None
        if found.state == "copying":
            return None
        if os.path.realpath(found.root) != os.path.realpath(root):
            raise FixtureError(
                f"{folder}: taken in {found.root}, not {root}; run `{RESTORE_COMMAND}` there; nothing was touched"
            )
        return from_manifest(folder, found)
    except DamagedBackup as exc:
        raise DamagedBackup(f"damaged backup: {exc}; nothing was touched") from None


def _put_back(folder: Path, backup: Backup | None, root: Path) -> Recovered:
    shown = relative(folder, root)
    if backup is None:
        shutil.rmtree(folder)
        return Recovered(backup=shown, created=None, status="incomplete")
    done = restore(backup, root)
    shutil.rmtree(folder)
    return Recovered(
        backup=shown,
        created=backup.created,
        status="restored",
        backed_up=len(backup.copies),
        restored=done.restored,
        replaced=done.replaced,
        new=done.new,
        kept=done.kept,
        not_restorable=done.not_restorable,
    )


def restore_leftovers(root: Path) -> list[Recovered]:
    """Put back every leftover backup, newest first (so the oldest one's files, from before any of the runs, end
    up in place); [] when there is none. All or nothing up front: a backup still in use, damaged, or taken in
    another folder raises (one line) before any file is touched."""
    held: list[tuple[Path, int]] = []
    try:
        for folder in backup_folders(root):
            try:
                fd = runlock.probe(folder)
            except FileNotFoundError:
                continue
            if fd is None:
                raise FixtureError(
                    f"{relative(folder, root)}: its rerecord is still running{_pid_note(folder)} (or the tests it "
                    "started are); nothing was touched"
                )
            held.append((folder, fd))
        loaded = [(folder, _load(folder, root)) for folder, _fd in held]
        done = [_put_back(folder, backup, root) for folder, backup in reversed(loaded)]
    finally:
        for _folder, fd in held:
            runlock.release(fd)
    tidy_state_dir(root)
    return done


def recover(root: Path, reporter: Reporter) -> int:
    """`fixtures rerecord --restore`: the exit code (0, also when there was nothing to restore)."""
    recovered = restore_leftovers(root)
    if not recovered:
        reporter.warn("nothing to restore: no backup left over by an unfinished rerecord")
    elif reporter.as_json:
        reporter.lines(recovered)
    else:
        reporter.recovered(recovered)
    return 0
