"""The pytest runner: running a planned record command (rerecording/runs.py) with its output passed on line by line,
and the folders such a run can write to. The backup around the runs is rerecording/backup.py; the whole flow is
rerecording/pytestflow.py."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

from llm_fixtures.errors import UsageError
from llm_fixtures.safepaths import OutsideProject, confined_absolute, is_inside

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
    argv: Sequence[str], env: dict[str, str], cwd: Path, echo: Callable[[str], None], keep_fds: Sequence[int] = ()
) -> tuple[RunStatus, int]:
    """Run the record command with its output passed line by line to `echo`; `(status, exit code)`. `keep_fds`:
    descriptors the command inherits (the backup's lock, so it stays held while the tests run, even when this
    process is killed)."""
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
            pass_fds=tuple(keep_fds),
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


# Where the recorder keeps the recordings of calls made outside any test (`<dir>/recordings`), when set.
RECORDING_DIR_VARIABLES = ("OGX_TEST_RECORDING_DIR", "LLAMA_STACK_TEST_RECORDING_DIR")


def _inside(path: Path, root: Path) -> Path | None:
    try:
        return confined_absolute(path, root, what="a recordings folder")
    except OutsideProject:
        return None


def reach(
    root: Path, tests: Iterable[str], recordings: Iterable[Path], environ: Mapping[str, str]
) -> tuple[list[Path], list[str]]:
    """Every `recordings` folder a record run of `tests` can write to (FORMAT.md §4): the one beside each test
    file, those of the folders above it up to the project (the shared `tests/integration/recordings` of the old
    layout) with their `common/recordings` (calls made outside any test, model lists and `/api/ps` at stack
    start-up), the recorder's own folder when its variable is set, and the folders of the selected recordings.
    A folder that leads outside the project is left out with a note: nothing is backed up or put back there."""
    folders: set[Path] = set()
    notes: list[str] = []
    wanted: set[Path] = {path.parent for path in recordings}
    real_root = Path(os.path.realpath(root))
    for test in tests:
        folder = (root / test.split("::", 1)[0]).parent
        wanted.add(folder / "recordings")
        for above in [folder, *folder.parents]:
            if not is_inside(Path(os.path.realpath(above)), real_root):
                break
            for candidate in (above / "recordings", above / "common" / "recordings"):
                if candidate.is_dir():
                    wanted.add(candidate)
            if os.path.realpath(above) == str(real_root):
                break
    for variable in RECORDING_DIR_VARIABLES:
        value = environ.get(variable)
        if value:
            base = Path(value) if Path(value).is_absolute() else root / value
            wanted.update((base, base / "recordings"))
    for folder in sorted(wanted):
        if _inside(folder, root) is None:
            notes.append(f"{folder}: leads outside the project; what a run writes there is not backed up")
        else:
            folders.add(folder)
    return sorted(folders), notes
