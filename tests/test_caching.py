"""The caches: a stamp stored only once the file has settled, entries of any other shape are misses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import orjson
import pytest

from llm_fixtures.caching import (
    COARSE_TICK_NS,
    FINE_TICK_NS,
    cache_dir,
    cache_file,
    read_entries,
    settled,
    write_entries,
)
from llm_fixtures.facts import FIELDS, Facts, derive_facts, from_row, is_row, to_row
from llm_fixtures.kinds import RequestKind

SECOND = 1_000_000_000
NOW = 1_800_000_000 * SECOND + 123_456_789


@pytest.mark.parametrize(
    ("mtime", "ctime", "expected"),
    [
        (NOW - 10 * SECOND, NOW - 10 * SECOND, True),  # long ago
        (NOW - 5_000_000, NOW - 5_000_000, False),  # 5 ms ago on a filesystem with nanoseconds
        (NOW - FINE_TICK_NS - 1, NOW - FINE_TICK_NS - 1, True),
        (NOW // SECOND * SECOND - SECOND, NOW // SECOND * SECOND - SECOND, False),  # whole seconds: coarse
        (NOW // SECOND * SECOND - COARSE_TICK_NS - SECOND, NOW // SECOND * SECOND - COARSE_TICK_NS - SECOND, True),
        (NOW - 10 * SECOND, NOW - 1_000, False),  # mtime set back (touch), changed just now
        (NOW + 60 * SECOND, NOW + 60 * SECOND, False),  # from the future (clock skew): never cached
    ],
)
def test_settled(mtime: int, ctime: int, expected: bool) -> None:
    assert settled([10, mtime, ctime], NOW) is expected


def test_rows_agree_with_the_facts(samples: Path) -> None:
    path = next(samples.rglob("7710372b*.json"))
    import json

    row = to_row(derive_facts(str(path), 1, json.loads(path.read_text())))
    assert len(row) == len(FIELDS) - 1 == len(Facts.__dataclass_fields__) - 1
    assert is_row(row)
    assert not is_row([*row, 1])
    assert not is_row(row[:-1])
    assert not is_row(tuple(row))
    assert not is_row([row[0], row[1], row[2], row[3], 123, *row[5:]])  # a model that is a number
    assert not is_row([*row[:7], 1, *row[8:]])  # streaming as 1, not a bool
    assert not is_row([*row[:2], "telepathy", *row[3:]])  # a kind that is none of the request kinds
    assert not is_row([*row[:-1], "future"])  # an era of no recorder
    facts = from_row("x.json", orjson.loads(orjson.dumps(row)))  # as read back from the cache
    assert facts.kind is RequestKind.inference


@pytest.mark.parametrize(
    "document", [b"", b"[]", b"5", b'{"key": "k", "entries": []}', b'{"key": "other", "entries": {}}', b"\xff{"]
)
def test_a_cache_of_another_shape_is_empty(tmp_path: Path, document: bytes) -> None:
    (tmp_path / "c.json").write_bytes(document)
    assert read_entries(tmp_path / "c.json", "k") == {}


def test_a_cache_that_is_a_fifo_is_empty_and_replaced(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "c.json")
    assert read_entries(tmp_path / "c.json", "k") == {}
    write_entries(tmp_path / "c.json", "k", {"a": 1})
    assert read_entries(tmp_path / "c.json", "k") == {"a": 1}
    assert (tmp_path / "c.json").stat().st_mode & 0o777 == 0o600


def test_writing_what_json_cannot_hold_costs_only_the_cache(tmp_path: Path) -> None:
    write_entries(tmp_path / "c.json", "k", {"a": "\ud800", "b": 10**30})
    assert not (tmp_path / "c.json").exists()


def test_the_cache_folder_is_xdg_cache_home_when_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "llm-fixtures"
    monkeypatch.setattr(sys, "platform", "darwin")  # a user's choice on every system
    assert cache_dir() == tmp_path / "llm-fixtures"


@pytest.mark.parametrize("value", ["", "relative/cache"])
def test_without_an_absolute_xdg_cache_home_linux_uses_dot_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", value)  # the XDG rule: a relative path is ignored
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    assert cache_dir() == tmp_path / ".cache" / "llm-fixtures"


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_macos_and_windows_get_their_own_cache_folder(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    import platformdirs
    import platformdirs.macos

    asked: list[tuple[object, ...]] = []

    def user_cache_dir(*args: object, **kwargs: object) -> str:
        asked.append((*args, *kwargs.items()))
        return "/the/system/cache/llm-fixtures"

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(platformdirs, "user_cache_dir", user_cache_dir)
    assert cache_dir() == Path("/the/system/cache/llm-fixtures")
    assert asked == [("llm-fixtures", ("appauthor", False))]
    # What platformdirs answers there: the folder macOS users expect.
    monkeypatch.setenv("HOME", "/Users/someone")
    assert (
        platformdirs.macos.MacOS("llm-fixtures", False).user_cache_dir == "/Users/someone/Library/Caches/llm-fixtures"
    )


def test_cache_files_spread_projects_and_kinds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    one, other = cache_file("tests", tmp_path / "a"), cache_file("tests", tmp_path / "b")
    assert one != other and one.parent == other.parent == tmp_path / "llm-fixtures"
    assert cache_file("facts", tmp_path / "a").name.startswith("facts-") and one.name.startswith("tests-")
