"""`fixtures rerecord` against hostile input: test ids that look like options or lead out of the project, and state
files (`.fixtures/pending/MANIFEST`, a backup's MANIFEST, `.fixtures` itself) that point outside it or do not
parse. Every case: one line naming the file, exit 2, no traceback, nothing written or deleted outside the project
(nor inside it), each in well under a few seconds. On the demo project of test_rerecord_pytest.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_rerecord_pytest import RECORDINGS, TEST_FILE, _files, project, recorded
from typer.testing import CliRunner

import builders
from llm_fixtures.app import app
from llm_fixtures.rerecording import runlock
from llm_fixtures.rerecording.backup import take_backup

# pytest finds fixtures by their name in the test module: the demo project of test_rerecord_pytest.py.
__all__ = ["project", "recorded"]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, ["rerecord", *args], catch_exceptions=False)


def _listing(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else b""
        for path in sorted(folder.rglob("*"))
    }


@pytest.fixture
def outside(project: Path) -> Path:
    """A folder beside the project that nothing may touch, holding a file to lose."""
    folder = project.parent / "outside"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "precious.txt").write_text("keep me\n")
    return folder


def _one_error(result: Any) -> str:
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return str(errors[0])


# --- test ids --------------------------------------------------------------------------------------------

HOSTILE_IDS: dict[str, Callable[[Path], str]] = {
    "--basetemp deletes a folder": lambda out: f"--basetemp={out}/a::b/..",
    "--junitxml writes outside": lambda out: f"--junitxml={out}/junit.xml::x",
    "-p loads a plugin": lambda _out: "-pno:randomly::x",
    "@ reads an argument file": lambda out: f"@{out}/args::x",
    "absolute test file": lambda out: f"{out}/test_x.py::test_y",
    "climbs out": lambda _out: "tests/../../outside/test_x.py::test_y",
    "linked folder out": lambda _out: "tests/link/test_x.py::test_y",
    "newline": lambda _out: "tests/integration/chat/test_chat.py::test_hello\n--basetemp=/",
    "escape sequence": lambda _out: "tests/integration/chat/test_chat.py::test_hello\x1b[2J",
}


def _with_test_id(root: Path, test_id: str) -> Path:
    """A copy of a real recording whose test id is `test_id`."""
    source = next(iter(sorted((root / RECORDINGS).glob("*.json"))))
    raw = json.loads(source.read_bytes())
    raw["test_id"] = test_id
    path = root / RECORDINGS / ("ee" * 32 + ".json")
    return builders.write_recording(path, raw)


@pytest.mark.parametrize("case", list(HOSTILE_IDS))
def test_a_test_id_that_is_no_node_id_never_reaches_pytest(project: Path, outside: Path, case: str) -> None:
    (outside / "args").write_text("--basetemp=" + str(outside / "a") + "\n")
    (project / "tests" / "link").symlink_to(outside, target_is_directory=True)
    (outside / "test_x.py").write_text("def test_y():\n    pass\n")
    hostile = _with_test_id(project, HOSTILE_IDS[case](outside))
    shown = hostile.relative_to(project).as_posix()
    before, beside = _files(project), _listing(outside)

    result = invoke(shown)
    assert result.exit_code == 2
    assert f"{shown}: test id " in result.stderr and "not run" in result.stderr
    assert "none of the 1 selected recording can be re-recorded" in _one_error(result)
    plan = invoke(shown, "--dry-run")
    assert plan.exit_code == 0 and "$ " not in plan.stdout and f"{shown}: test id " in plan.stderr
    assert "\x1b" not in plan.stderr and "\x1b" not in result.stderr

    mixed = invoke(shown, f"{TEST_FILE}::test_hello")  # the real test still runs; the stranger does not
    assert mixed.exit_code == 0, mixed.output
    assert f"{shown}: test id " in mixed.stderr
    assert _listing(outside) == beside  # nothing deleted, nothing written (no junit.xml, no basetemp)
    after = _files(project)
    assert after[hostile.name] == before[hostile.name]


# --- .fixtures/pending/MANIFEST ------------------------------------------------------------------------------


def _stage_by_hand(root: Path, entry: dict[str, Any] | None = None, manifest: bytes | None = None) -> Path:
    pending = root / ".fixtures" / "pending"
    pending.mkdir(parents=True)
    (pending / "000001.staged").write_bytes(b'{"staged": true}\n')
    good: dict[str, Any] = {"id": "000001", "test_id": f"{TEST_FILE}::test_hello", "target": f"{RECORDINGS}/x.json"}
    good |= {"kind": "new", "runner": "http", "bytes": 17}
    data = manifest if manifest is not None else orjson.dumps([{**good, **(entry or {})}])
    (pending / "MANIFEST").write_bytes(data)
    return pending


POINTING_OUT: dict[str, Callable[[Path], dict[str, Any]]] = {
    "relative ..": lambda _out: {"target": "../../x.json"},
    "relative .. into the folder beside": lambda _out: {"target": "../outside/x.json"},
    "absolute": lambda out: {"target": str(out / "x.json")},
    "through a linked folder": lambda _out: {"target": "link/x.json"},
    "an id that is a path": lambda _out: {"id": "../../../outside/x"},
}
NOT_PARSING: dict[str, bytes | dict[str, Any]] = {
    "not JSON": b'[{"id": "0000',
    "an object": b"{}",
    "a number in the list": b"[1]",
    "a field missing": {"kind": None},
    "bytes as a string": {"bytes": "17"},
    "an unknown kind": {"kind": "weird"},
    "an unknown field": {"extra": 1},
    "a test id with an escape": {"test_id": "t\x1b[2J"},
    "a short id": {"id": "1"},
}
OPERATIONS = {
    "--pending": ["--pending"],
    "--accept": ["--accept"],
    "--reject": ["--reject"],
    "--review": [f"{TEST_FILE}::test_hello", "--review"],
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("case", list(POINTING_OUT))
def test_a_pending_manifest_pointing_out_stops_everything(
    project: Path, outside: Path, case: str, operation: str
) -> None:
    (project / "link").symlink_to(outside, target_is_directory=True)
    pending = _stage_by_hand(project, POINTING_OUT[case](outside))
    before, state, beside = _files(project), _listing(pending), _listing(outside)
    result = invoke(*OPERATIONS[operation])
    assert result.exit_code == 2, result.output
    line = _one_error(result)
    assert "MANIFEST" in line
    assert _listing(outside) == beside and not (outside / "x.json").exists()
    assert _files(project) == before and _listing(pending) == state


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("case", list(NOT_PARSING))
def test_a_pending_manifest_that_does_not_parse_is_one_line(project: Path, case: str, operation: str) -> None:
    damage = NOT_PARSING[case]
    if isinstance(damage, bytes):
        pending = _stage_by_hand(project, manifest=damage)
    else:
        pending = _stage_by_hand(project, damage)
        if damage.get("kind", "") is None:
            document = orjson.loads((pending / "MANIFEST").read_bytes())
            del document[0]["kind"]
            (pending / "MANIFEST").write_bytes(orjson.dumps(document))
    before, state = _files(project), _listing(pending)
    result = invoke(*OPERATIONS[operation])
    assert result.exit_code == 2, result.output
    line = _one_error(result)
    assert "MANIFEST" in line and "nothing was changed" in line and "\x1b" not in line
    assert _files(project) == before and _listing(pending) == state


def test_a_linked_state_folder_is_refused(project: Path, outside: Path) -> None:
    (project / ".fixtures").symlink_to(outside, target_is_directory=True)
    beside = _listing(outside)
    for args in (["--pending"], ["--accept"], ["--restore"], [f"{TEST_FILE}::test_hello"]):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "a link" in _one_error(result)
    assert _listing(outside) == beside


# --- a backup's MANIFEST ---------------------------------------------------------------------------------


def _leftover(root: Path) -> Path:
    recordings = sorted((root / RECORDINGS).glob("*.json"))
    backup = take_backup(root, recordings, [root / RECORDINGS], tests=[f"{TEST_FILE}::test_hello"])
    recordings[0].write_bytes(b'{"test_id": "half')  # the run's damage, that a restore would repair
    runlock.release(backup.lock)
    return backup.folder


BACKUP_OUT: dict[str, Callable[[Path, Path], str]] = {
    "absolute outside": lambda _root, out: str(out / "x.json"),
    "climbing with ..": lambda root, _out: str(root / RECORDINGS / ".." / ".." / ".." / ".." / "x.json"),
    "through a linked folder": lambda root, _out: str(root / "link" / "x.json"),
    "not absolute": lambda _root, _out: "tests/x.json",
}


@pytest.mark.parametrize("field", ["files", "watched", "before"])
@pytest.mark.parametrize("case", list(BACKUP_OUT))
def test_a_backup_manifest_pointing_out_restores_nothing(project: Path, outside: Path, case: str, field: str) -> None:
    (project / "link").symlink_to(outside, target_is_directory=True)
    folder = _leftover(project)
    document = orjson.loads((folder / "MANIFEST").read_bytes())
    path = BACKUP_OUT[case](project, outside)
    if field == "files":
        first = next(iter(document["files"].values()))
        document["files"][path] = first
    elif field == "watched":
        document["watched"].append(path)
    else:
        document["before"][path] = [1, 2, 3]
    (folder / "MANIFEST").write_bytes(orjson.dumps(document))
    before, kept, beside = _files(project), _listing(folder), _listing(outside)
    result = invoke("--restore")
    assert result.exit_code == 2, result.output
    line = _one_error(result)
    assert "damaged backup" in line and "nothing was touched" in line
    assert _listing(outside) == beside and not (outside / "x.json").exists()
    assert _files(project) == before and _listing(folder) == kept


def test_a_linked_backup_folder_is_not_taken_for_a_backup(project: Path, outside: Path) -> None:
    (project / ".fixtures").mkdir()
    (project / ".fixtures" / "backup-20250101T000000-1").symlink_to(outside, target_is_directory=True)
    beside = _listing(outside)
    result = invoke("--restore")
    assert result.exit_code == 0 and "nothing to restore" in result.stderr
    assert _listing(outside) == beside  # no LOCK made there, nothing removed
    assert (project / ".fixtures" / "backup-20250101T000000-1").is_symlink()
