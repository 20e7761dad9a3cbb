"""The gate for untrusted paths and the one way files are read: confinement to the project, regular files only."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from llm_fixtures.safepaths import NotRegularFile, OutsideProject, confined, confined_absolute, read_regular


@pytest.mark.parametrize(
    "relative",
    ["../x.json", "a/../../x.json", "/etc/passwd", "C:\\x.json", "\\\\server\\share\\x", "", "a\x00b"],
)
def test_confined_refuses_paths_leading_out(tmp_path: Path, relative: str) -> None:
    with pytest.raises(OutsideProject):
        confined(relative, tmp_path, what="MANIFEST")


def test_confined_refuses_a_linked_folder_leading_out(tmp_path: Path) -> None:
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "recordings").symlink_to(outside)
    with pytest.raises(OutsideProject, match="leads outside"):
        confined("recordings/x.json", root, what="MANIFEST")
    with pytest.raises(OutsideProject):
        confined_absolute(root / "recordings" / "x.json", root, what="MANIFEST")


def test_confined_accepts_paths_inside_even_missing_ones(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    assert confined("a/new.json", tmp_path, what="m") == Path(os.path.realpath(tmp_path)) / "a" / "new.json"
    assert confined("a/../b.json", tmp_path, what="m").name == "b.json"


def test_read_regular_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "x.json"
    os.mkfifo(fifo)
    done: list[BaseException] = []

    def read() -> None:
        try:
            read_regular(fifo)
        except NotRegularFile as exc:
            done.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(5)
    assert done and "FIFO" in str(done[0])


def test_read_regular_refuses_devices_and_folders(tmp_path: Path) -> None:
    with pytest.raises(NotRegularFile, match="device"):
        read_regular("/dev/zero")
    with pytest.raises(OSError):
        read_regular(tmp_path)


def test_read_regular_caps_what_it_reads(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 4096)
    assert read_regular(path) == b"x" * 4096
    with pytest.raises(NotRegularFile, match="larger than"):
        read_regular(path, limit=1024)
