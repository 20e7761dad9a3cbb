"""The node ids of the configured `pytest --collect-only -q` runs, unioned, cached by a fingerprint of inputs."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from llm_fixtures.caching import cache_file, read_entries, write_entries
from llm_fixtures.discovery import SKIP_DIRS
from llm_fixtures.errors import FixtureError

DEFAULT_COMMAND = ("python", "-m", "pytest", "--collect-only", "-q")
CACHE_FORMAT = 1
# Files whose change can change what pytest collects; recordings folders are left out (they never do).
FINGERPRINT_SUFFIXES = (".py", ".pyi", ".toml", ".ini", ".cfg", ".yaml", ".yml")
FINGERPRINT_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "VIRTUAL_ENV", "PYTHONPATH")
TIMEOUT_SECONDS = 900


class CollectError(FixtureError):
    """A collection run failed or printed no node ids; nothing may be deleted on its evidence."""


@dataclass(frozen=True, slots=True)
class Collection:
    """The union of node ids of every run, and whether it came from the cache."""

    ids: frozenset[str]
    cached: bool
    commands: tuple[tuple[str, ...], ...]


def parse_node_ids(output: str) -> list[str]:
    """The node ids `pytest --collect-only -q` prints: one per line, before the first blank line
    (after it come warnings and the `N tests collected` summary). Ids may contain spaces inside `[...]`."""
    ids: list[str] = []
    for line in output.splitlines():
        if not line.strip():
            if ids:
                break
            continue
        if "::" in line and not line[0].isspace():
            ids.append(line.rstrip("\r"))
    return ids


def _fingerprint_files(cwd: Path) -> Iterable[str]:
    for current, dirs, files in os.walk(cwd):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and d != "recordings" and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(FINGERPRINT_SUFFIXES):
                path = Path(current, name)
                try:
                    stat = path.stat()
                except OSError:
                    continue
                yield f"{path.relative_to(cwd).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}"


def fingerprint(commands: Sequence[Sequence[str]], cwd: Path) -> str:
    """A digest of what a collection depends on: the commands, the folder, some environment variables, and
    the path, size and mtime of every source and config file under the folder."""
    digest = hashlib.sha256()
    digest.update(json.dumps([list(command) for command in commands]).encode())
    digest.update(str(cwd).encode())
    for name in FINGERPRINT_ENV:
        digest.update(f"\0{name}={os.environ.get(name, '')}".encode())
    for line in _fingerprint_files(cwd):
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _read_cache(cwd: Path, key: str) -> frozenset[str] | None:
    """The node ids cached for this fingerprint; None unless the entry is a list of strings (the cache is data
    from disk)."""
    ids = read_entries(cache_file("collect", cwd), f"{CACHE_FORMAT}:{key}").get("ids")
    if type(ids) is not list or not all(type(node_id) is str for node_id in ids):
        return None
    return frozenset(ids)


def _write_cache(cwd: Path, key: str, ids: frozenset[str]) -> None:
    write_entries(cache_file("collect", cwd), f"{CACHE_FORMAT}:{key}", {"ids": sorted(ids)})


def _tail(text: str, lines: int = 15) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n    ".join(kept) if kept else "(no output)"


def run_collection(command: Sequence[str], cwd: Path) -> list[str]:
    """Run one collection command in `cwd`; its node ids. CollectError on a failure (exit code other than 0
    or 5 = no tests), a timeout, or output without node ids while tests were collected."""
    shown = shlex.join(command)
    try:
        done = subprocess.run(
            list(command), cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except FileNotFoundError:
        raise CollectError(f"collection `{shown}` failed: {command[0]}: command not found") from None
    except subprocess.TimeoutExpired:
        raise CollectError(f"collection `{shown}` timed out after {TIMEOUT_SECONDS} s") from None
    except OSError as exc:
        raise CollectError(f"collection `{shown}` failed: {exc.strerror or exc}") from None
    if done.returncode not in (0, 5):
        raise CollectError(
            f"collection `{shown}` failed (exit {done.returncode}); nothing deleted:\n    "
            + _tail(done.stdout + "\n" + done.stderr)
        )
    ids = parse_node_ids(done.stdout)
    if not ids and done.returncode == 0:
        # Exit 0 means tests were collected (none is exit 5): the output was not `-q` node ids (a tree, -qq).
        raise CollectError(f"collection `{shown}` printed no node ids: run it with -q (once)")
    return ids


def collect(commands: Sequence[Sequence[str]], cwd: Path, *, use_cache: bool = True) -> Collection:
    """The union of the node ids of every command (default: `python -m pytest --collect-only -q`), run in
    `cwd`; from the cache when nothing they depend on changed. Any failing run raises CollectError."""
    runs = tuple(tuple(command) for command in commands) or (DEFAULT_COMMAND,)
    key = fingerprint(runs, cwd)
    if use_cache:
        cached = _read_cache(cwd, key)
        if cached is not None:
            return Collection(cached, True, runs)
    ids: set[str] = set()
    for command in runs:
        ids.update(run_collection(command, cwd))
    result = frozenset(ids)
    _write_cache(cwd, key, result)
    return Collection(result, False, runs)
