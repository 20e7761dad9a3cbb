"""Running git: the one way this tool calls it (no deadlock whatever the sizes), and the one reading of its errors."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from llm_fixtures.errors import GitError

# Every git call takes paths literally (`--literal-pathspecs`): a file named `x[1].json` is that file, not a glob.
GIT_OPTIONS = ("--literal-pathspecs",)


# What is kept of git's stderr: its first lines say what went wrong; the rest is drained and dropped.
STDERR_KEPT = 64 * 1024


def run_git(args: Sequence[str], cwd: Path, *, stdin: bytes | None = None) -> bytes:
    """git's stdout for `args` run in `cwd`; GitError with one line (git's own first error line) on failure.

    Input is written from one thread and stderr drained by another while stdout is read in one go here, so
    no pipe ever fills up whatever the sizes (tens of megabytes of blobs out, a flood of warnings on stderr),
    and reading stdout whole is faster than `communicate`'s small chunks."""
    executable = shutil.which("git")
    if executable is None:
        raise GitError("git is not installed (or not on PATH)")
    try:
        process = subprocess.Popen(
            [executable, *GIT_OPTIONS, *args],
            cwd=cwd,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    assert process.stdout is not None and process.stderr is not None
    errors: list[bytes] = []
    helpers = [threading.Thread(target=_drain, args=(process.stderr, errors), daemon=True)]
    if stdin is not None:
        assert process.stdin is not None
        helpers.append(threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True))
    for helper in helpers:
        helper.start()
    try:
        out = process.stdout.read()
    finally:
        process.stdout.close()
        for helper in helpers:
            helper.join()
        code = process.wait()
    if code != 0:
        raise GitError(error_line(b"".join(errors), args, code))
    return out


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, OSError):
        pass  # git stopped reading (it failed, or needed no more): its exit code says which


def _drain(pipe: IO[bytes], into: list[bytes]) -> None:
    kept = 0
    while chunk := pipe.read(1 << 16):
        if kept < STDERR_KEPT:
            into.append(chunk[: STDERR_KEPT - kept])
            kept += len(into[-1])
    pipe.close()


def error_line(stderr: bytes, args: Sequence[str], code: int) -> str:
    """The one line a failed git call is reported by: its first `fatal:` or `error:` line without the prefix,
    else its first line, else which command failed with which code."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    first = next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "")
    first = first.removeprefix("fatal: ").removeprefix("error: ")
    return first or f"git {' '.join(args[:2])} failed with exit code {code}"
