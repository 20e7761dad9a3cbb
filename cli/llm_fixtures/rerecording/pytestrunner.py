"""The pytest runner: the command that puts the project's tests in record mode (presets for OGX and llama-stack,
or `[tool.fixtures.rerecord]`), running it with its output passed on line by line, and the folders it can write.
The backup around the run is rerecording/backup.py; the whole flow is rerecording/pytestflow.py."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llm_fixtures.errors import ConfigError, UsageError
from llm_fixtures.settings import RerecordSettings

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
