"""The pytest runner: back up the recordings of the selected tests, run those tests in record mode, then say
what changed; restore the backup byte for byte when the run fails or is interrupted."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel

from llm_fixtures.errors import ConfigError, UsageError
from llm_fixtures.settings import RerecordSettings
from llm_fixtures.store import write_atomic

STATE_DIR = ".fixtures"
NODE_IDS = "{node_ids}"
PYTHON = "{python}"


@dataclass(frozen=True, slots=True)
class Preset:
    """How a known project puts its tests in record mode."""

    name: str
    env: dict[str, str]
    args: tuple[str, ...] = ()


PRESETS: dict[str, Preset] = {
    # OGX: pytest_configure copies `--inference-mode` (default replay) over the variable, so both are needed.
    "ogx": Preset("ogx", {"OGX_TEST_INFERENCE_MODE": "record"}, ("--inference-mode", "record")),
    "llama-stack": Preset("llama-stack", {"LLAMA_STACK_TEST_INFERENCE_MODE": "record"}),
}
# Files whose text tells which recorder a repository uses.
_MARKER_FILES = ("tests/integration/conftest.py", "tests/conftest.py", "conftest.py", "pyproject.toml")


def detect_preset(root: Path) -> str | None:
    """`ogx` or `llama-stack` when the repository's conftest (or layout) names that recorder's mode variable."""
    texts: list[str] = []
    for name in _MARKER_FILES:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            texts.append((root / name).read_text())
    text = "\n".join(texts)
    if "OGX_TEST_INFERENCE_MODE" in text or (root / "src" / "ogx" / "testing").is_dir():
        return "ogx"
    if "LLAMA_STACK_TEST_INFERENCE_MODE" in text or (root / "llama_stack" / "testing").is_dir():
        return "llama-stack"
    return None


def build_command(
    settings: RerecordSettings, detected: str | None, node_ids: Sequence[str], python: str = sys.executable
) -> tuple[list[str], dict[str, str]]:
    """The argv and the environment additions of the record run. `[tool.fixtures.rerecord]` `command` (with
    `{node_ids}` expanded in place and `{python}` as this interpreter) and `env` win over the preset."""
    name = settings.preset or detected
    if name is not None and name not in PRESETS and name != "none":
        raise ConfigError(f"[tool.fixtures.rerecord] preset {name!r} is not one of {', '.join(PRESETS)}, none")
    preset = PRESETS.get(name) if name else None
    env = {**(preset.env if preset else {}), **settings.env}
    if not env:
        raise UsageError(
            "no way to put the tests in record mode: this is not an OGX or llama-stack repository; set "
            '[tool.fixtures.rerecord] env (for example env = {MY_TEST_MODE = "record"}) or preset'
        )
    template = list(settings.command) if settings.command else ["pytest", NODE_IDS]
    if NODE_IDS not in template:
        template.append(NODE_IDS)
    argv: list[str] = []
    for part in template:
        if part == NODE_IDS:
            if preset is not None and preset.args and preset.args[0] not in template:
                argv.extend(preset.args)
            argv.extend(node_ids)
        else:
            argv.append(part.replace(PYTHON, python))
    return argv, env


# --- backup and restore ------------------------------------------------------------------------------------

Stamp = tuple[int, int, int]


def _stamp(path: Path) -> Stamp | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def snapshot(folders: Iterable[Path]) -> dict[Path, Stamp]:
    """Size, mtime and inode of every JSON file under `folders` (missing folders are empty)."""
    found: dict[Path, Stamp] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for current, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith(".json") and not name.startswith("."):
                    path = Path(current, name)
                    stamp = _stamp(path)
                    if stamp is not None:
                        found[path] = stamp
    return found


def state_dir(root: Path) -> Path:
    """`<project>/.fixtures`: backups and staged recordings; ignored by git (it holds its own .gitignore). No
    file in it ends in `.json`, so no listing of recordings ever takes one for a recording."""
    folder = root / STATE_DIR
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder


@dataclass
class Backup:
    """Copies of the recordings of the selected tests (flat, numbered, so no `recordings` folder appears in the
    backup), what every watched folder held before the run, and where the copies are."""

    folder: Path
    copies: dict[Path, Path] = field(default_factory=dict)
    times: dict[Path, tuple[int, int]] = field(default_factory=dict)
    before: dict[Path, Stamp] = field(default_factory=dict)
    watched: list[Path] = field(default_factory=list)


def take_backup(root: Path, recordings: Sequence[Path], watched: Sequence[Path]) -> Backup:
    """Copy every recording of the selected tests aside (with a manifest) before anything runs."""
    folder = state_dir(root) / f"backup-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    folder.mkdir(parents=True)
    backup = Backup(folder=folder, watched=sorted(set(watched)))
    for index, path in enumerate(sorted(set(recordings)), 1):
        copy = folder / f"{index:05d}.bak"
        shutil.copyfile(path, copy)
        stat = path.stat()
        backup.copies[path] = copy
        backup.times[path] = (stat.st_atime_ns, stat.st_mtime_ns)
    manifest = {"root": str(root), "files": {str(p): c.name for p, c in backup.copies.items()}}
    (folder / "MANIFEST").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    backup.before = snapshot(backup.watched)
    return backup


class Restored(BaseModel):
    restored: list[str]
    removed: list[str]
    not_restorable: list[str]


def restore(backup: Backup, root: Path) -> Restored:
    """Put every backed-up file back byte for byte (with its modification time) and remove every file the run
    created. Files of other tests that the run changed were not backed up: they are named, not touched."""
    restored: list[str] = []
    for path, copy in sorted(backup.copies.items()):
        data = copy.read_bytes()
        try:
            current = path.read_bytes()
        except OSError:
            current = None
        if current != data:
            write_atomic(path, data)
            restored.append(_rel(path, root))
        atime, mtime = backup.times[path]
        os.utime(path, ns=(atime, mtime))
    after = snapshot(backup.watched)
    removed: list[str] = []
    for path in sorted(set(after) - set(backup.before)):
        path.unlink(missing_ok=True)
        removed.append(_rel(path, root))
    not_restorable = [
        _rel(path, root)
        for path, stamp in sorted(after.items())
        if path in backup.before and path not in backup.copies and stamp != backup.before[path]
    ]
    return Restored(restored=restored, removed=removed, not_restorable=not_restorable)


def discard(backup: Backup) -> None:
    shutil.rmtree(backup.folder, ignore_errors=True)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# --- what the run did --------------------------------------------------------------------------------------


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


def _test_id_in(path: Path) -> str | None:
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(raw, dict):
        return None
    request = raw.get("request")
    test_id = raw.get("test_id", request.get("test_id") if isinstance(request, dict) else None)
    return test_id if isinstance(test_id, str) else None


def compare(backup: Backup, root: Path, tests: dict[Path, str | None]) -> Outcome:
    """What the run did to the watched folders, against the backup. `tests`: the test id of each backed-up file."""
    after = snapshot(backup.watched)
    outcome = Outcome()
    written: set[str | None] = set()
    kept: list[Path] = []
    for path, copy in sorted(backup.copies.items()):
        stamp = after.get(path)
        if stamp is None:
            outcome.deleted.append(_rel(path, root))
        elif path.read_bytes() != copy.read_bytes():
            outcome.changed.append(_rel(path, root))
            written.add(tests.get(path))
        elif stamp != backup.before.get(path):
            outcome.unchanged.append(_rel(path, root))
            written.add(tests.get(path))
        else:
            kept.append(path)
    for path in sorted(after):
        if path not in backup.before:
            outcome.new.append(_rel(path, root))
            written.add(_test_id_in(path))
        elif path not in backup.copies and after[path] != backup.before[path]:
            outcome.outside.append(_rel(path, root))
    for path in kept:
        which = outcome.superseded if tests.get(path) in written else outcome.not_rerecorded
        which.append(_rel(path, root))
    return outcome


# --- running -----------------------------------------------------------------------------------------------

RunStatus = Literal["passed", "failed", "interrupted"]


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While the tests run, SIGTERM is handled like Ctrl-C, so the backup is restored either way."""

    def handler(signum: int, frame: object) -> None:
        del signum, frame
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_tests(
    argv: Sequence[str], env: dict[str, str], cwd: Path, echo: Callable[[str], None]
) -> tuple[RunStatus, int]:
    """Run the record command with its output passed line by line to `echo`; `(status, exit code)`."""
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise UsageError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
    with _terminate_as_interrupt():
        try:
            assert process.stdout is not None
            for line in process.stdout:
                echo(line.rstrip("\n"))
            code = process.wait()
        except KeyboardInterrupt:
            _stop(process)
            return "interrupted", process.returncode if process.returncode is not None else -2
    return ("passed" if code == 0 else "failed"), code


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def watched_folders(root: Path, tests: Iterable[str], recordings: Iterable[Path], roots: Iterable[Path]) -> list[Path]:
    """Where a record run can write: each test's `recordings` folder beside its test file (FORMAT.md §4), the
    folders the old recordings are in, and the project's recording roots."""
    folders = {path.parent for path in recordings}
    folders.update(roots)
    for test in tests:
        test_file = test.split("::", 1)[0]
        if test_file and not Path(test_file).is_absolute() and ".." not in Path(test_file).parts:
            folders.add(root / Path(test_file).parent / "recordings")
    return sorted(folders)


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
