"""The one atomic writer (mode and owner kept) and the one reader of recordings' bytes as JSON."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from llm_fixtures.decoding import is_foreign, parse_json
from llm_fixtures.errors import BadRecording, WriteError
from llm_fixtures.store import write_atomic


def test_a_new_file_gets_the_mode_asked_for(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "new.json", b"{}")
    assert (tmp_path / "a" / "new.json").stat().st_mode & 0o777 == 0o644
    write_atomic(tmp_path / "private.json", b"{}", mode=0o600)
    assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomic(path, b"new", mode=0o777)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [child.name for child in tmp_path.iterdir()] == ["x.json"]  # no temporary file left


def test_a_copy_under_a_new_name_takes_the_old_file_s_mode(tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    old.write_bytes(b"{}")
    old.chmod(0o600)
    write_atomic(tmp_path / "new.json", b"{}", like=old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o600


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another user takes root")
def test_a_replaced_file_keeps_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"old")
    os.chown(path, 4321, 4322)
    write_atomic(path, b"new")
    assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4322)


@pytest.mark.skipif(os.getuid() == 0, reason="root may give a file to anyone")
def test_an_owner_that_cannot_be_kept_stops_the_write(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"old")
    if not [group for group in os.getgroups() if group != path.stat().st_gid]:
        pytest.skip("no other group to give the file to")
    other = next(group for group in os.getgroups() if group != path.stat().st_gid)
    os.chown(path, -1, other)
    write_atomic(path, b"new")  # a group of ours: kept
    assert path.stat().st_gid == other


def test_a_read_only_file_is_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b"old")
    path.chmod(0o444)
    if os.access(path, os.W_OK):
        pytest.skip("root writes read-only files")
    with pytest.raises(WriteError, match="read-only"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"n": ' + b"9" * 4400 + b"}", "an integer of more than 4300 digits"),
        (b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b'{"a": "\\ud800"', "truncated JSON"),
        (b"", "empty file"),
    ],
)
def test_parse_json_says_what_is_wrong_in_one_line(data: bytes, reason: str) -> None:
    with pytest.raises(BadRecording, match=reason):
        parse_json(data, "x.json")


def test_parse_json_keeps_a_lone_surrogate() -> None:
    assert parse_json(b'{"a": "\\ud800"}', "x.json") == {"a": "\ud800"}


@pytest.mark.parametrize(
    ("raw", "location", "foreign"),
    [
        ([1, 2], "tests/integration/client-typescript/suites.json", True),
        ({"name": "x"}, "package.json", True),
        ({"request": {}}, "package.json", False),
        ([1, 2], "tests/integration/recordings/x.json", False),
        ({"name": "x"}, "recordings/responses/x.json", False),
        ("text", "a/b.json", True),
    ],
)
def test_is_foreign(raw: object, location: str, foreign: bool) -> None:
    assert is_foreign(raw, location) is foreign
