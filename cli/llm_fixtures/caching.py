"""The user cache: where it lives, the stamp that says a file is unchanged, and one keyed JSON document per cache.

A cache is data from disk like any other: whatever it holds is checked before use (`read_entries` gives only a
dict; each user checks the shape of the entries it takes), and a cache that cannot be read or written only costs
time.
"""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path
from typing import Any

import orjson

from llm_fixtures.errors import FixtureError
from llm_fixtures.safepaths import read_regular

# A file's stamp: [size, mtime_ns, ctime_ns]. Equal stamps mean an unchanged file only once its timestamps have
# moved on: a rewrite of the same size within one tick of the filesystem's clock keeps all three. So an entry is
# stored only when the file was last changed longer ago than a tick: FINE_TICK_NS where the timestamps carry
# sub-second digits (one tick of the kernel's coarse clock is at most 10 ms), COARSE_TICK_NS where they are whole
# seconds (ext3, HFS+, some network filesystems; FAT counts in 2 s).
Stamp = list[int]
FINE_TICK_NS = 20_000_000
COARSE_TICK_NS = 4_000_000_000
_SECOND_NS = 1_000_000_000
_stat = os.stat  # one name for the tests to stand a filesystem with whole-second timestamps in for the real one


def cache_dir() -> Path:
    """The user cache folder of fixtures; everything in it is safe to delete. `$XDG_CACHE_HOME/llm-fixtures` when
    XDG_CACHE_HOME is an absolute path, on every system (a user's choice, and how the tests keep their caches
    apart); otherwise the system's user cache folder: `~/.cache/llm-fixtures` on Linux and other Unix systems,
    `~/Library/Caches/llm-fixtures` on macOS, `%LOCALAPPDATA%\\llm-fixtures\\Cache` on Windows (platformdirs)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "llm-fixtures"
    if sys.platform in ("darwin", "win32"):
        # Imported only here: platformdirs costs a warm run on Linux a tenth of its start-up, for the one rule
        # below that it would apply there too.
        from platformdirs import user_cache_dir

        return Path(user_cache_dir("llm-fixtures", appauthor=False))
    return Path.home() / ".cache" / "llm-fixtures"  # the XDG default, as platformdirs gives it on Linux


def cache_file(kind: str, folder: Path) -> Path:
    """The cache file of one kind (`facts`, `tests`, ...) for a project folder. Its name only spreads projects
    over files (entries are keyed by absolute path, or by a fingerprint that holds the folder, so two folders
    sharing a file cost each other hits, never a wrong answer): two checksums, not sha256, whose module (OpenSSL)
    would be a twentieth of a warm run's start-up."""
    text = str(folder).encode()
    return cache_dir() / f"{kind}-{zlib.crc32(text):08x}{zlib.adler32(text):08x}.json"


def stamp_of(path: str) -> Stamp | None:
    """The stamp of a file (following links, as reading it does), or None when it cannot be stat'ed."""
    try:
        info = _stat(path)
    except (OSError, ValueError):
        return None
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns]


def settled(stamp: Stamp, now_ns: int) -> bool:
    """Whether a file with this stamp, read at `now_ns` or later, may be cached: its last change is more than a
    tick of its filesystem's clock before `now_ns`, so any later change gives it another stamp."""
    _, mtime, ctime = stamp
    coarse = mtime % _SECOND_NS == 0 and ctime % _SECOND_NS == 0
    return max(mtime, ctime) < now_ns - (COARSE_TICK_NS if coarse else FINE_TICK_NS)


def read_entries(file: Path, key: str) -> dict[str, Any]:
    """The entries stored in `file` under `key`; {} when the file is missing, not a regular file, broken or made
    for another key (another version of the tool, other options)."""
    try:
        document = orjson.loads(read_regular(file))
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(document, dict) or document.get("key") != key:
        return {}
    entries = document.get("entries")
    return entries if isinstance(entries, dict) else {}


def write_entries(file: Path, key: str, entries: dict[str, Any]) -> None:
    """Store `entries` under `key`, atomically and readable by the user only. Nothing is stored, and nothing
    raised, when the folder cannot be made or written (WriteError, OSError) or a value is not JSON (orjson's
    TypeError, ValueError): a cache only ever costs time."""
    from llm_fixtures.store import write_atomic

    try:
        data = orjson.dumps({"key": key, "entries": entries})
        write_atomic(file, data, mode=0o600, durable=False)
    except (OSError, FixtureError, TypeError, ValueError):
        pass
