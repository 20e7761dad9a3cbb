"""The error hierarchy: every error a person can act on is a FixtureError, mapped to exit code 2."""

from __future__ import annotations

from pathlib import Path


class FixtureError(Exception):
    """A failure the user can act on; the app prints `error: <message>` and exits 2."""

    exit_code = 2


class UsageError(FixtureError):
    """Bad arguments or options."""


class PathNotFound(FixtureError):
    def __init__(self, path: Path | str) -> None:
        super().__init__(f"{path}: no such file or directory")
        self.path = Path(path)


class BadRecording(FixtureError):
    """A file that cannot be read as a recording. `str()` is the one-line `path: what is wrong`."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class NoMatch(FixtureError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"no recording matches {ref!r}")
        self.ref = ref


class AmbiguousRef(FixtureError):
    def __init__(self, ref: str, candidates: list[str]) -> None:
        shown = "\n  ".join(candidates[:20])
        more = f"\n  ... and {len(candidates) - 20} more" if len(candidates) > 20 else ""
        super().__init__(f"{ref!r} is ambiguous; it matches:\n  {shown}{more}")
        self.ref = ref
        self.candidates = candidates


class ConfigError(FixtureError):
    """A bad `[tool.fixtures]` table."""


class GitError(FixtureError):
    """git is missing, the folder is not a repository, or a revision does not exist."""


class WriteError(FixtureError):
    """A file or folder could not be written; nothing was half-written."""
