"""`fixtures rerecord --restore`: a record run whose `fixtures` process died (SIGKILL, power loss) leaves its backup
in `.fixtures/backup-*`; `--restore` puts every file back exactly, moves what the dead run left to the trash, and
removes the backup. A damaged backup is reported in one line and nothing is touched; a new run refuses while a
backup is there. On the demo project of test_rerecord_pytest.py, with a real `fixtures` subprocess killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_rerecord_pytest import RECORDINGS, TEST_FILE, _files, project, recorded
from typer.testing import CliRunner

from llm_fixtures.app import app
from llm_fixtures.rerecording import manifest, runlock
from llm_fixtures.rerecording.backup import take_backup

RESTORE = "fixtures rerecord --restore"
# pytest finds fixtures by their name in the test module: the demo project of test_rerecord_pytest.py.
__all__ = ["project", "recorded"]


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llm_fixtures", *args], cwd=root, capture_output=True, text=True, check=False
    )


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["rerecord", *args], catch_exceptions=False)


def _times(root: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_mode) for p in (root / RECORDINGS).glob("*.json")}


def _backups(root: Path) -> list[Path]:
    return sorted((root / ".fixtures").glob("backup-*"))


def _trashed(root: Path) -> list[bytes]:
    """The bytes of every file in the trash (`.fixtures-trash/`: the demo project is no git repository)."""
    return sorted(path.read_bytes() for path in (root / ".fixtures-trash").rglob("*.trashed"))


def _lock_is_free(folder: Path) -> bool:
    fd = runlock.probe(folder)
    runlock.release(fd)
    return fd is not None


def _one_error_line(result: Any) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return str(lines[0])


def test_fixtures_killed_mid_run_is_put_back_byte_for_byte(project: Path) -> None:
    before, times = _files(project), _times(project)
    two_calls = [name for name, data in before.items() if b"::test_two_calls" in data]
    env = {**os.environ, "DEMO_ANSWER": "v9", "DEMO_QUESTION": "z", "DEMO_SLEEP": "120", "PYTHONUNBUFFERED": "1"}
    tests = [f"{TEST_FILE}::test_param", f"{TEST_FILE}::test_two_calls"]
    argv = [sys.executable, "-m", "llm_fixtures", "rerecord", *tests]
    with (project.parent / "fixtures.log").open("w") as log:
        process = subprocess.Popen(argv, cwd=project, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        # test_param asks new questions (two new files), then test_two_calls rewrites its two files and sleeps.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = _files(project)
            if len(now) == 7 and all(now[name] != before[name] for name in two_calls):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the record run never wrote: " + (project.parent / "fixtures.log").read_text())
        os.kill(process.pid, signal.SIGKILL)  # `fixtures` alone: the tests it started sleep on
        process.wait()
        [backup] = _backups(project)
        during = _files(project)

        # The test process still holds the backup's lock: nothing may restore it or start beside it.
        busy = _cli(project, "rerecord", "--restore")
        assert busy.returncode == 2 and "still running" in _one_error_line(busy)
        beside = _cli(project, "rerecord", f"{TEST_FILE}::test_hello")
        assert beside.returncode == 2 and "another fixtures rerecord is running" in _one_error_line(beside)
        assert _files(project) == during and _backups(project) == [backup]
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the power goes: the sleeping tests die too
    deadline = time.monotonic() + 30
    while not _lock_is_free(backup) and time.monotonic() < deadline:
        time.sleep(0.05)

    refused = _cli(project, "rerecord", f"{TEST_FILE}::test_hello")
    line = _one_error_line(refused)
    assert refused.returncode == 2 and f".fixtures/{backup.name}" in line and RESTORE in line
    assert _files(project) == during and _backups(project) == [backup]

    restored = _cli(project, "rerecord", "--restore")
    assert restored.returncode == 0, restored.stderr
    assert _files(project) == before  # every name and every byte
    assert _times(project) == times  # and the modification times and modes
    assert not backup.exists()
    assert "restored 2 of 5 backed-up recordings" in restored.stderr
    new = sorted(set(during) - set(before))
    assert len(new) == 2 and all(f"trashed   {RECORDINGS}/{name}" in restored.stdout for name in new)
    # Nothing is lost: the dead run's files are in the trash, and `prune --restore` brings the new ones back.
    assert _trashed(project) == sorted([during[name] for name in two_calls] + [during[name] for name in new])
    assert "`fixtures prune --restore` brings the new files back" in restored.stderr
    again = _cli(project, "rerecord", "--restore")
    assert again.returncode == 0 and "nothing to restore" in again.stderr and again.stdout == ""
    back = _cli(project, "prune", "--restore")
    assert back.returncode == 0, back.stderr
    assert _files(project) == {**before, **{name: during[name] for name in new}}


def _leave_a_backup(root: Path) -> tuple[Path, dict[str, bytes]]:
    """A backup as a killed `fixtures` leaves it: taken by the real code, then the run's writes (one file half
    written, one deleted, one made private, one new), then the lock let go without the backup being removed."""
    recordings = sorted((root / RECORDINGS).glob("*.json"))
    backup = take_backup(root, recordings, [root / RECORDINGS])
    recordings[0].write_bytes(b'{"test_id": "half')
    recordings[1].unlink()
    recordings[2].chmod(0o600)
    (root / RECORDINGS / ("ab" * 32 + ".json")).write_bytes(b'{"new": true}\n')
    runlock.release(backup.lock)
    return backup.folder, _files(root)


def test_restore_puts_a_leftover_back_and_says_what_it_did(project: Path) -> None:
    before, times = _files(project), _times(project)
    folder, during = _leave_a_backup(project)
    result = invoke("--restore", "--json")
    assert result.exit_code == 0, result.output
    [line] = [orjson.loads(text) for text in result.stdout.splitlines()]
    assert line["backup"] == f".fixtures/{folder.name}" and line["status"] == "restored"
    assert line["backed_up"] == 5 and len(line["restored"]) == 2 and len(line["replaced"]) == 1
    assert line["new"] == [f"{RECORDINGS}/{'ab' * 32}.json"]
    assert _files(project) == before and _times(project) == times
    assert _trashed(project) == sorted([b'{"test_id": "half', b'{"new": true}\n'])
    assert not folder.exists() and during != before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("altered copy", "does not match its SHA-256"),
        ("missing copy", "the copy of"),
        ("manifest not JSON", "not JSON"),
        ("manifest without a field", "files, before or watched is missing"),
        ("older fixtures", "written by an older fixtures"),
        ("copies without a manifest", "copies but no MANIFEST"),
    ],
)
def test_a_damaged_backup_is_one_line_exit_2_and_nothing_is_touched(project: Path, damage: str, message: str) -> None:
    folder, during = _leave_a_backup(project)
    copy = folder / "00002.bak"
    if damage == "altered copy":
        copy.write_bytes(copy.read_bytes()[:-10])
    elif damage == "missing copy":
        copy.unlink()
    elif damage == "manifest not JSON":
        (folder / "MANIFEST").write_bytes(b'{"format": 1, "state": "re')
    elif damage == "manifest without a field":
        document = orjson.loads((folder / "MANIFEST").read_bytes())
        del document["before"]
        (folder / "MANIFEST").write_bytes(orjson.dumps(document))
    elif damage == "older fixtures":  # the manifest written before `--restore` existed
        (folder / "MANIFEST").write_bytes(orjson.dumps({"root": str(project), "files": {"x.json": "00001.bak"}}))
    else:
        (folder / "MANIFEST").unlink()
    backup_before = {path.name: path.read_bytes() for path in folder.iterdir()}
    result = invoke("--restore")
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert message in line and "nothing was touched" in line
    assert _files(project) == during
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == backup_before
    assert not (project / ".fixtures-trash").exists()


def test_an_unfinished_backup_is_removed_its_run_never_started(project: Path) -> None:
    before = _files(project)
    backup = take_backup(project, sorted((project / RECORDINGS).glob("*.json")), [project / RECORDINGS])
    found = manifest.read(backup.folder)
    assert found is not None and found.state == "ready"
    manifest.write(backup.folder, replace(found, state="copying"))  # as if killed while copying
    runlock.release(backup.lock)
    result = invoke("--restore")
    assert result.exit_code == 0, result.output
    assert "never completed" in result.stderr and not backup.folder.exists()
    assert _files(project) == before


@pytest.mark.parametrize("runner", ["pytest", "http"])
def test_a_new_run_refuses_while_a_leftover_is_there(project: Path, runner: str) -> None:
    folder, during = _leave_a_backup(project)
    result = invoke(f"{TEST_FILE}::test_hello", "--runner", runner, "--base-url", "http://127.0.0.1:9/v1")
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert f".fixtures/{folder.name} is left over from a rerecord that did not finish" in line and RESTORE in line
    assert _files(project) == during and _backups(project) == [folder]
    plan = invoke(f"{TEST_FILE}::test_param", "--dry-run")  # looking is still fine
    assert plan.exit_code == 0 and "1 test in 1 run in record mode" in plan.stdout


def test_a_live_backup_is_neither_restored_nor_run_beside(project: Path) -> None:
    before = _files(project)
    backup = take_backup(project, sorted((project / RECORDINGS).glob("*.json")), [project / RECORDINGS])
    try:
        restoring = invoke("--restore")
        assert restoring.exit_code == 2 and f"still running, pid {os.getpid()}" in _one_error_line(restoring)
        beside = invoke(f"{TEST_FILE}::test_hello")
        assert beside.exit_code == 2 and "another fixtures rerecord is running" in _one_error_line(beside)
        assert backup.folder.is_dir() and _files(project) == before
    finally:
        from llm_fixtures.rerecording.backup import discard

        discard(backup)
    assert not backup.folder.exists()


def test_nothing_to_restore_is_said_and_exit_0(project: Path) -> None:
    result = invoke("--restore")
    assert result.exit_code == 0 and result.stdout == ""
    assert "nothing to restore" in result.stderr
    assert not (project / ".fixtures").exists()  # looking made no state folder
    assert invoke("--restore", "--pending").exit_code == 2
