"""The user cache: where it lives, and reading and writing one keyed JSON document in it, best effort."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson


def cache_dir() -> Path:
    """The user cache folder of fixtures (`$XDG_CACHE_HOME/llm-fixtures`, default `~/.cache/llm-fixtures`).
    Everything in it is safe to delete."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "llm-fixtures"


def read_entries(file: Path, key: str) -> dict[str, Any]:
    """The entries stored in `file` under `key`; {} when the file is missing, broken or made for another key
    (another version of the tool, other options)."""
    try:
        document = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(document, dict) or document.get("key") != key:
        return {}
    entries = document.get("entries")
    return entries if isinstance(entries, dict) else {}


def write_entries(file: Path, key: str, entries: dict[str, Any]) -> None:
    """Store `entries` under `key`, atomically (temp + rename). Best effort: a cache that cannot be written only
    costs time."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        tmp.write_bytes(orjson.dumps({"key": key, "entries": entries}))
        tmp.replace(file)
    except OSError:
        pass
