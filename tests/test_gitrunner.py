"""The one git runner: no deadlock whatever git writes where, and one reading of its errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from diffkit import commit_all, init_repo
from llm_fixtures.errors import GitError
from llm_fixtures.gitrunner import error_line, run_git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    init_repo(root)
    commit_all(root, "first")
    return root


def _within(seconds: float, work: object) -> object:
    """The result of `work()`, or a failure when it does not return in time (a deadlock)."""
    results: list[object] = []

    def run() -> None:
        try:
            results.append(work())  # type: ignore[operator]
        except Exception as exc:
            results.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert results, f"git did not answer in {seconds} s: deadlocked"
    return results[0]


def test_more_than_a_pipe_of_errors_never_deadlocks(repo: Path) -> None:
    # Each unknown path is one error line on stderr: 3,000 of them are ~200 KiB, three pipe buffers.
    paths = [f"no-such-file-{index:05d}.json" for index in range(3000)]
    outcome = _within(30, lambda: run_git(["ls-files", "--error-unmatch", "--", *paths], repo))
    assert isinstance(outcome, GitError)
    assert str(outcome) == "pathspec 'no-such-file-00000.json' did not match any file(s) known to git"


def test_large_input_and_output_at_once(repo: Path) -> None:
    # Input and output both far beyond a pipe buffer: written from one thread while read in another.
    names = [f"HEAD:missing-{index:06d}.json" for index in range(20000)]
    outcome = _within(30, lambda: run_git(["cat-file", "--batch-check"], repo, stdin="\n".join(names).encode()))
    assert isinstance(outcome, bytes)
    assert outcome.count(b" missing\n") == len(names)


def test_a_failure_is_git_s_own_first_error_line(repo: Path) -> None:
    with pytest.raises(GitError, match=r"^ambiguous argument 'no-such-rev'"):
        run_git(["rev-parse", "no-such-rev"], repo)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        run_git(["rev-parse", "--show-toplevel"], tmp_path)


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (b"warning: x\nfatal: bad thing\n", "bad thing"),
        (b"hint: a\nerror: worse\nfatal: bad\n", "worse"),
        (b"just words\n", "just words"),
        (b"", "git cat-file --batch failed with exit code 128"),
        (b"\xff\xfe fatal\n", "\ufffd\ufffd fatal"),
    ],
)
def test_error_line(stderr: bytes, expected: str) -> None:
    assert error_line(stderr, ["cat-file", "--batch"], 128) == expected
