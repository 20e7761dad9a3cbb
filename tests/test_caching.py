"""The caches: a stamp stored only once the file has settled, entries of any other shape are misses."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from llm_fixtures.caching import COARSE_TICK_NS, FINE_TICK_NS, read_entries, settled, write_entries
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
